package schema

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/hamba/avro/v2"
)

// formatVersion is written as the record property "cairn.format"; the
// codec refuses schemas of another version.
const formatVersion = 1

// Derive builds the Avro record schema of a table (see docs/formats/avro.md
// for the mapping). The same Table always gives the same schema, and the
// same JSON from MarshalSchema.
func Derive(t Table) (avro.Schema, error) {
	js, err := DeriveJSON(t)
	if err != nil {
		return nil, err
	}
	s, err := Parse(js)
	if err != nil {
		return nil, fmt.Errorf("derive %s: parse the derived schema: %w", t.Subject(), err)
	}
	return s, nil
}

// DeriveJSON is Derive's schema as JSON text, before hamba parses it.
// Use MarshalSchema(Derive(t)) for the registry's normalised bytes.
func DeriveJSON(t Table) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("derive: %w", err)
	}
	recNS := "cairn." + string(t.Flavor) + "." + avroName(t.Source) + "." + avroName(t.Namespace)
	recName := avroName(t.Name)
	recFull := recNS + "." + recName
	fields := make([]fieldSpec, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		fname := avroName(c.Name)
		ns := recFull + "." + fname
		var (
			s   *spec
			err error
		)
		if t.Flavor == Postgres {
			s, err = pgSpec(c, ns, 0)
		} else {
			s, err = mysqlSpec(c, ns)
		}
		if err != nil {
			return nil, fmt.Errorf("derive %s: column %q (%s): %w", t.Subject(), c.Name, c.Type, err)
		}
		fields[i] = fieldSpec{col: c, name: fname, spec: s}
		if !c.Nullable && c.Default != "" {
			if def, ok := avroDefault(s, t.Flavor, []byte(c.Default)); ok {
				fields[i].def = def
			}
		}
	}
	w := &schemaWriter{defined: map[string]bool{}}
	w.raw(`{"type":"record","name":`)
	w.str(recFull)
	w.raw(`,"fields":[`)
	for i := range fields {
		if i > 0 {
			w.raw(",")
		}
		w.field(&fields[i])
	}
	w.raw(`],"cairn.flavor":`)
	w.str(string(t.Flavor))
	w.raw(`,"cairn.format":` + strconv.Itoa(formatVersion))
	w.raw(`,"cairn.source":`)
	w.str(t.Source)
	w.raw(`,"cairn.namespace":`)
	w.str(t.Namespace)
	w.raw(`,"cairn.table":`)
	w.str(t.Name)
	w.raw(`,"cairn.key":`)
	w.strs(t.Key)
	w.raw("}")
	return w.b, nil
}

// Parse parses schema JSON with a private name cache, so that named types
// of one schema never leak into another (hamba's default cache is
// global).
func Parse(js []byte) (avro.Schema, error) {
	return avro.ParseBytesWithCache(js, "", &avro.SchemaCache{})
}

type fieldSpec struct {
	col  *Column
	name string
	spec *spec
	def  []byte // Avro JSON default of a NOT NULL column, or nil
}

// schemaWriter writes schema JSON; a named type is defined the first time
// it is written and referenced by full name afterwards.
type schemaWriter struct {
	b       []byte
	defined map[string]bool
}

func (w *schemaWriter) raw(s string) { w.b = append(w.b, s...) }
func (w *schemaWriter) str(s string) { w.b = AppendJSONString(w.b, s) }
func (w *schemaWriter) strs(ss []string) {
	w.raw("[")
	for i, s := range ss {
		if i > 0 {
			w.raw(",")
		}
		w.str(s)
	}
	w.raw("]")
}

// named reports whether the named type full is already defined (and if
// so writes its reference); otherwise it marks it defined.
func (w *schemaWriter) named(full string) bool {
	if w.defined[full] {
		w.str(full)
		return true
	}
	w.defined[full] = true
	return false
}

func (w *schemaWriter) field(f *fieldSpec) {
	c := f.col
	w.raw(`{"name":`)
	w.str(f.name)
	w.raw(`,"type":`)
	w.column(f.spec, c.Nullable)
	switch {
	case c.Nullable:
		w.raw(`,"default":null`)
	case f.def != nil:
		w.raw(`,"default":`)
		w.b = append(w.b, f.def...)
	}
	props := map[string]func(){}
	props["cairn.type"] = func() { w.str(c.Type) }
	if c.Name != f.name {
		props["cairn.column"] = func() { w.str(c.Name) }
	}
	if c.Base != "" {
		props["cairn.base"] = func() { w.str(c.Base) }
	}
	if c.Elem != nil {
		props["cairn.elem"] = func() { w.str(c.Elem.Type) }
	}
	if c.Precision != 0 {
		props["cairn.precision"] = func() { w.raw(strconv.Itoa(c.Precision)) }
	}
	if c.Scale != 0 {
		props["cairn.scale"] = func() { w.raw(strconv.Itoa(c.Scale)) }
	}
	if c.Length != 0 {
		props["cairn.length"] = func() { w.raw(strconv.Itoa(c.Length)) }
	}
	if len(c.EnumValues) > 0 {
		props["cairn.enum"] = func() { w.strs(c.EnumValues) }
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.raw(",")
		w.str(k)
		w.raw(":")
		props[k]()
	}
	w.raw("}")
}

// column writes a column's type: the union of null (when nullable), the
// typed branch, the MultiDim record (arrays), the text branch and the
// unchanged-TOAST branch, or the typed branch alone.
func (w *schemaWriter) column(s *spec, nullable bool) {
	n := 1
	if nullable {
		n++
	}
	if s.kind == tArray {
		n++
	}
	if s.text != "" {
		n++
	}
	if s.unchanged {
		n++
	}
	if n == 1 {
		w.typed(s)
		return
	}
	w.raw("[")
	if nullable {
		w.raw(`"null",`)
	}
	w.branches(s)
	if s.unchanged {
		w.raw(",")
		if !w.named(nameUnchanged) {
			w.raw(`{"type":"record","name":`)
			w.str(nameUnchanged)
			w.raw(`,"fields":[]}`)
		}
	}
	w.raw("]")
}

// branches writes the typed, MultiDim and text branches, comma-separated.
func (w *schemaWriter) branches(s *spec) {
	w.typed(s)
	if s.kind == tArray {
		w.raw(",")
		if !w.named(s.multiName) {
			w.raw(`{"type":"record","name":`)
			w.str(s.multiName)
			w.raw(`,"fields":[{"name":"dims","type":{"type":"array","items":"int"}},{"name":"elements","type":{"type":"array","items":`)
			w.items(s.elem)
			w.raw(`}}]}`)
		}
	}
	switch {
	case s.text == "string":
		w.raw(`,"string"`)
	case s.text != "":
		w.raw(",")
		if !w.named(s.text) {
			w.raw(`{"type":"record","name":`)
			w.str(s.text)
			w.raw(`,"fields":[{"name":"text","type":"string"}]}`)
		}
	}
}

// items writes an array's item type: ["null", branches of the element].
func (w *schemaWriter) items(el *spec) {
	w.raw(`["null",`)
	w.branches(el)
	w.raw("]")
}

func (w *schemaWriter) typed(s *spec) {
	switch s.kind {
	case tInt:
		w.raw(`"int"`)
	case tLong:
		w.raw(`"long"`)
	case tFloat:
		w.raw(`"float"`)
	case tDouble:
		w.raw(`"double"`)
	case tBool:
		w.raw(`"boolean"`)
	case tString:
		w.raw(`"string"`)
	case tBytes:
		w.raw(`"bytes"`)
	case tUUID:
		w.raw(`{"type":"string","logicalType":"uuid"}`)
	case tDecimal:
		w.raw(`{"type":"bytes","logicalType":"decimal","precision":` + strconv.Itoa(s.prec) + `,"scale":` + strconv.Itoa(s.scale) + `}`)
	case tUInt64:
		if !w.named(nameUInt64) {
			w.raw(`{"type":"fixed","name":`)
			w.str(nameUInt64)
			w.raw(`,"size":` + strconv.Itoa(uint64FixedSize) + `,"logicalType":"decimal","precision":20,"scale":0}`)
		}
	case tDate:
		w.raw(`{"type":"int","logicalType":"date"}`)
	case tTimeMicros:
		w.raw(`{"type":"long","logicalType":"time-micros"}`)
	case tTimestamp:
		w.raw(`{"type":"long","logicalType":"timestamp-micros"}`)
	case tLocalTimestamp:
		w.raw(`{"type":"long","logicalType":"local-timestamp-micros"}`)
	case tTimeTZ:
		if !w.named(nameTimeTZ) {
			w.raw(`{"type":"record","name":`)
			w.str(nameTimeTZ)
			w.raw(`,"fields":[{"name":"time","type":{"type":"long","logicalType":"time-micros"}},{"name":"offset","type":"int"}]}`)
		}
	case tInterval:
		if !w.named(nameInterval) {
			w.raw(`{"type":"record","name":`)
			w.str(nameInterval)
			w.raw(`,"fields":[{"name":"months","type":"int"},{"name":"days","type":"int"},{"name":"micros","type":"long"}]}`)
		}
	case tEnum:
		if !w.named(s.name) {
			w.raw(`{"type":"enum","name":`)
			w.str(s.name)
			w.raw(`,"symbols":`)
			w.strs(s.symbols)
			if s.enumDefault != "" {
				w.raw(`,"default":`)
				w.str(s.enumDefault)
			}
			w.raw("}")
		}
	case tOther:
		// The flavor is the first namespace component after "cairn."
		// of the record; both Other records have the same shape.
		full := s.name
		if !w.named(full) {
			w.raw(`{"type":"record","name":`)
			w.str(full)
			w.raw(`,"fields":[{"name":"type","type":"string"},{"name":"text","type":"string"}]}`)
		}
	case tArray:
		w.raw(`{"type":"array","items":`)
		w.items(s.elem)
		w.raw("}")
	}
}
