package postgres

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// testCatalog is testdata/pg_type.tsv: the pg_type rows of a real
// PostgreSQL 15 database, read once.
var testCatalog = sync.OnceValues(func() ([]TypeInfo, error) {
	f, err := os.Open("testdata/pg_type.tsv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var list []TypeInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 7 {
			return nil, strconv.ErrSyntax
		}
		var nums [3]uint64
		for i, s := range []string{fs[0], fs[4], fs[5]} {
			if nums[i], err = strconv.ParseUint(s, 10, 32); err != nil {
				return nil, err
			}
		}
		list = append(list, TypeInfo{
			OID: uint32(nums[0]), Name: fs[1], Type: fs[2][0], Category: fs[3][0],
			Elem: uint32(nums[1]), Base: uint32(nums[2]), Delim: fs[6][0],
		})
	}
	return list, sc.Err()
})

// catalog returns the test catalog as Types, and a name -> OID map.
func catalog(t testing.TB) (*Types, map[string]uint32) {
	t.Helper()
	list, err := testCatalog()
	if err != nil {
		t.Fatalf("read testdata/pg_type.tsv: %v", err)
	}
	names := make(map[string]uint32, len(list))
	for _, ti := range list {
		names[ti.Name] = ti.OID
	}
	return NewTypes(list), names
}

func oidOf(t testing.TB, names map[string]uint32, name string) uint32 {
	t.Helper()
	oid, ok := names[name]
	if !ok {
		t.Fatalf("type %s is not in testdata/pg_type.tsv", name)
	}
	return oid
}

func TestTypesKinds(t *testing.T) {
	ts, names := catalog(t)
	cases := []struct {
		name string
		kind valueKind
	}{
		{"int2", kindInt}, {"int4", kindInt}, {"int8", kindInt}, {"oid", kindInt}, {"xid", kindInt},
		{"float4", kindFloat}, {"float8", kindFloat},
		{"numeric", kindString}, {"bool", kindBool}, {"bytea", kindBytea},
		{"text", kindString}, {"bpchar", kindString}, {"char", kindString}, {"json", kindString},
		{"int4range", kindString}, {"int4multirange", kindString}, {"tsrange", kindString},
		{"int2vector", kindString}, {"oidvector", kindString},
		{"_int4", kindArray}, {"_box", kindArray}, {"_text", kindArray},
		{"public.citext", kindString}, {"public._citext", kindArray},
		{"public.mood", kindString}, {"public._mood", kindArray},
		{"public.pair", kindOther}, {"public._pair", kindArray},
		{"public.hstore", kindOther},
		{"public.posint", kindInt}, {"public.posint2", kindInt}, {"public._posint", kindArray},
		{"public.intarr", kindArray}, {"public._intarr", kindArray},
		{"public.boxd", kindString}, {"public._boxd", kindArray},
		{"record", kindOther}, {"anyarray", kindOther}, {"_record", kindOther},
	}
	for _, c := range cases {
		e := ts.byOID[oidOf(t, names, c.name)]
		if e.kind != c.kind {
			t.Errorf("%s: kind %d, want %d", c.name, e.kind, c.kind)
		}
	}
	// Element rules and delimiters.
	for name, want := range map[string]struct {
		elem  string
		delim byte
	}{
		"_box":           {"box", ';'},
		"public._boxd":   {"public.boxd", ';'},
		"_int4":          {"int4", ','},
		"public.intarr":  {"int4", ','},
		"public._intarr": {"public.intarr", ','},
		"public._posint": {"public.posint", ','},
	} {
		e := ts.byOID[oidOf(t, names, name)]
		if e.elem == nil || e.elem.info.Name != want.elem || e.delim != want.delim {
			t.Errorf("%s: elem %v delim %q, want %s %q", name, e.elem, e.delim, want.elem, want.delim)
		}
	}
	if got := ts.byOID[oidOf(t, names, "public.posint2")].typeName; got != "int4" {
		t.Errorf("domain typeName %q, want the base type's name int4", got)
	}
}

func TestTypesLookupResolve(t *testing.T) {
	ts := NewTypes([]TypeInfo{
		{OID: 23, Name: "int4", Type: 'b', Category: 'N', Delim: ','},
		{OID: 20001, Name: "public.d1", Type: 'd', Category: 'N', Base: 20002, Delim: ','},
		{OID: 20002, Name: "public.d2", Type: 'd', Category: 'N', Base: 23, Delim: ','},
		{OID: 20003, Name: "public.loop1", Type: 'd', Base: 20004},
		{OID: 20004, Name: "public.loop2", Type: 'd', Base: 20003},
		{OID: 20005, Name: "public.orphan", Type: 'd', Base: 99999},
		{OID: 20006, Name: "public._unknownelem", Type: 'b', Category: 'A', Elem: 99998, Delim: ','},
	})
	if ts.Len() != 7 {
		t.Fatalf("Len %d", ts.Len())
	}
	ti, ok := ts.Lookup(20001)
	if !ok || ti.Name != "public.d1" {
		t.Fatalf("Lookup(20001) = %v, %v", ti, ok)
	}
	if _, ok := ts.Lookup(1); ok {
		t.Fatal("Lookup of an absent OID succeeded")
	}
	base, ok := ts.Resolve(20001)
	if !ok || base.OID != 23 {
		t.Fatalf("Resolve(20001) = %v, %v; want int4", base, ok)
	}
	for _, oid := range []uint32{20003, 20005, 1} {
		if ti, ok := ts.Resolve(oid); ok {
			t.Errorf("Resolve(%d) = %v, want not found", oid, ti)
		}
	}
	for oid, want := range map[uint32]string{
		20001: `7`,
		20003: `{"$type":"public.loop1","text":"7"}`,
		20005: `{"$type":"public.orphan","text":"7"}`,
		20006: `[{"$type":"99998","text":"7"}]`,
	} {
		text := "7"
		if oid == 20006 {
			text = "{7}"
		}
		got, err := ts.AppendValue(nil, oid, []byte(text))
		if err != nil || string(got) != want {
			t.Errorf("AppendValue(%d) = %s, %v; want %s", oid, got, err, want)
		}
	}
}

func TestTypesExtensionNamedLikeBuiltin(t *testing.T) {
	// A type outside pg_catalog never takes a built-in rule by OID clash or
	// by name, except citext.
	ts := NewTypes([]TypeInfo{
		{OID: 30001, Name: "ext.int4", Type: 'b', Category: 'N', Delim: ','},
		{OID: 30002, Name: "ext.citext", Type: 'b', Category: 'S', Delim: ','},
	})
	got, _ := ts.AppendValue(nil, 30001, []byte("1"))
	if string(got) != `{"$type":"ext.int4","text":"1"}` {
		t.Errorf("ext.int4: %s", got)
	}
	got, _ = ts.AppendValue(nil, 30002, []byte("A"))
	if string(got) != `"A"` {
		t.Errorf("ext.citext: %s", got)
	}
}
