package schema

import (
	"fmt"
	"strings"
)

// pgAliases maps SQL spellings of built-in types to their typname.
var pgAliases = map[string]string{
	"smallint": "int2", "integer": "int4", "int": "int4", "bigint": "int8",
	"real": "float4", "double precision": "float8", "boolean": "bool", "decimal": "numeric",
	"character varying": "varchar", "character": "bpchar", `"char"`: "char",
	"time without time zone": "time", "time with time zone": "timetz",
	"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
	"bit varying": "varbit",
}

// pgBuiltin is the Avro kind of each built-in PostgreSQL base type
// (pg_catalog, unqualified names). Types not listed are "other" types.
var pgBuiltin = map[string]tkind{
	"int2": tInt, "int4": tInt,
	"int8": tLong, "oid": tLong, "xid": tLong, "xid8": tLong, "cid": tLong,
	"float4": tFloat, "float8": tDouble,
	"numeric": tDecimal, // or tString when unconstrained
	"bool":    tBool,
	"bytea":   tBytes,
	"uuid":    tUUID,
	"date":    tDate, "time": tTimeMicros, "timetz": tTimeTZ,
	"timestamp": tLocalTimestamp, "timestamptz": tTimestamp, "interval": tInterval,
}

// pgStrings are the built-in types whose canonical value is a JSON string
// of their text, kept as an Avro string.
var pgStrings = map[string]bool{
	"text": true, "varchar": true, "bpchar": true, "name": true, "char": true, "citext": true, "xml": true,
	"json": true, "jsonb": true, "jsonpath": true,
	"inet": true, "cidr": true, "macaddr": true, "macaddr8": true, "money": true,
	"bit": true, "varbit": true, "tsvector": true, "tsquery": true,
	"point": true, "line": true, "lseg": true, "box": true, "path": true, "polygon": true, "circle": true,
	"pg_lsn": true, "int2vector": true, "oidvector": true, "tid": true, "refcursor": true,
	"txid_snapshot": true, "pg_snapshot": true, "aclitem": true,
	"regproc": true, "regprocedure": true, "regoper": true, "regoperator": true, "regclass": true,
	"regtype": true, "regrole": true, "regnamespace": true, "regcollation": true, "regconfig": true,
	"regdictionary": true,
}

// pgFixedLength are the built-in types PostgreSQL never TOASTs (fixed
// typlen): their columns get no unchanged-TOAST branch. Enums are fixed
// length too.
var pgFixedLength = map[string]bool{
	"int2": true, "int4": true, "int8": true, "oid": true, "xid": true, "xid8": true, "cid": true,
	"float4": true, "float8": true, "bool": true, "uuid": true, "money": true, "name": true, "char": true,
	"date": true, "time": true, "timetz": true, "timestamp": true, "timestamptz": true, "interval": true,
	"macaddr": true, "macaddr8": true, "point": true, "lseg": true, "box": true, "line": true, "circle": true,
	"pg_lsn": true, "tid": true, "aclitem": true,
	"regproc": true, "regprocedure": true, "regoper": true, "regoperator": true, "regclass": true,
	"regtype": true, "regrole": true, "regnamespace": true, "regcollation": true, "regconfig": true,
	"regdictionary": true,
}

// pgResolved returns the domain-resolved type name of c, with SQL
// aliases mapped to typnames.
func pgResolved(c *Column) string {
	n := c.Type
	if c.Base != "" {
		n = c.Base
	}
	n = strings.TrimSpace(n)
	if a, ok := pgAliases[strings.ToLower(n)]; ok {
		return a
	}
	return n
}

// maxAvroDecimalPrecision bounds numeric(p,s) mapped to an Avro decimal;
// PostgreSQL's own limit for a declared precision.
const maxAvroDecimalPrecision = 1000

// pgSpec chooses the Avro shape of a PostgreSQL column (or element) type.
// ns is the namespace for named types the column needs.
func pgSpec(c *Column, ns string, depth int) (*spec, error) {
	if depth > 8 {
		return nil, fmt.Errorf("array element types nest too deep: %w", ErrTable)
	}
	name := pgResolved(c)
	if c.Elem != nil {
		el, err := pgSpec(c.Elem, ns+"."+nameItemNamespace, depth+1)
		if err != nil {
			return nil, err
		}
		el.unchanged = false
		return &spec{kind: tArray, elem: el, multiName: ns + "." + nameMultiDim, text: "string", unchanged: true}, nil
	}
	switch c.Class {
	case ClassEnum:
		if validSymbols(c.EnumValues) {
			return &spec{kind: tEnum, symbols: c.EnumValues, name: ns + "." + nameEnum}, nil
		}
		return &spec{kind: tString}, nil
	case ClassRange, ClassMultirange:
		return &spec{kind: tString, unchanged: true}, nil
	case ClassComposite, ClassOther:
		return &spec{kind: tOther, name: namePGOther, unchanged: true}, nil
	}
	if strings.ContainsRune(name, '.') {
		// Outside pg_catalog only citext has a built-in rule.
		if name[strings.LastIndexByte(name, '.')+1:] == "citext" {
			return &spec{kind: tString, unchanged: true}, nil
		}
		return &spec{kind: tOther, name: namePGOther, unchanged: true}, nil
	}
	s := &spec{unchanged: !pgFixedLength[name]}
	if k, ok := pgBuiltin[name]; ok {
		s.kind = k
		if k == tDecimal {
			if c.Precision < 1 || c.Precision > maxAvroDecimalPrecision || c.Scale < 0 || c.Scale > c.Precision {
				s.kind = tString // unconstrained numeric (or a typmod Avro cannot express)
			} else {
				s.prec, s.scale, s.text = c.Precision, c.Scale, "string"
			}
		}
		return s, nil
	}
	if pgStrings[name] {
		s.kind = tString
		return s, nil
	}
	s.kind, s.name, s.unchanged = tOther, namePGOther, true
	return s, nil
}

// validSymbols reports whether labels can be Avro enum symbols: valid
// names, unique, at least one.
func validSymbols(labels []string) bool {
	if len(labels) == 0 {
		return false
	}
	seen := make(map[string]bool, len(labels))
	for _, l := range labels {
		if !isAvroName(l) || seen[l] {
			return false
		}
		seen[l] = true
	}
	return true
}
