package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// TypeInfo describes a PostgreSQL type as loaded from pg_type.
type TypeInfo struct {
	OID      uint32
	Name     string // typname, schema-qualified when not in pg_catalog
	Type     byte   // typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange
	Category byte   // typcategory: A array, B bool, N numeric, S string, ...
	Elem     uint32 // typelem for arrays
	Base     uint32 // typbasetype for domains
	Delim    byte   // typdelim

	// set is the Types this TypeInfo was looked up in, if any. TextOf uses
	// it to find array element types; a hand-built TypeInfo has none.
	set *Types
}

// Types maps type OIDs to their descriptions and to the rule that turns
// their text output into canonical JSON. It is immutable once built and safe
// for concurrent use; refresh by building a new one with LoadTypes.
type Types struct {
	byOID map[uint32]*typeEntry
}

// valueKind is the canonical mapping rule of a (domain-resolved) type.
type valueKind uint8

const (
	kindOther  valueKind = iota // {"$type":name,"text":text}
	kindInt                     // JSON number, validated integer
	kindFloat                   // JSON number, or string for NaN/±Infinity
	kindBool                    // true / false from t / f
	kindString                  // JSON string of the text as printed
	kindBytea                   // JSON string of the validated \x hex text
	kindArray                   // JSON array of element values
)

// typeEntry is a TypeInfo with its precomputed decoding rule.
type typeEntry struct {
	info TypeInfo
	kind valueKind
	// typeName is the "$type" of kindOther values: the name of the
	// domain-resolved base type.
	typeName string
	// elem and delim describe array elements (kindArray only). elem is the
	// element's own entry (its kind already follows domains); delim is the
	// element type's typdelim.
	elem  *typeEntry
	delim byte
}

// maxDomainDepth bounds domain-over-domain chains, so a corrupt catalog
// cannot loop.
const maxDomainDepth = 64

// Built-in type OIDs (fixed in pg_type.dat; objects below 16384 are pinned).
const (
	oidBool          = 16
	oidBytea         = 17
	oidChar          = 18
	oidName          = 19
	oidInt8          = 20
	oidInt2          = 21
	oidInt2Vector    = 22
	oidInt4          = 23
	oidRegproc       = 24
	oidText          = 25
	oidOID           = 26
	oidTID           = 27
	oidXID           = 28
	oidCID           = 29
	oidOIDVector     = 30
	oidJSON          = 114
	oidXML           = 142
	oidPoint         = 600
	oidLseg          = 601
	oidPath          = 602
	oidBox           = 603
	oidPolygon       = 604
	oidLine          = 628
	oidCidr          = 650
	oidFloat4        = 700
	oidFloat8        = 701
	oidCircle        = 718
	oidMacaddr8      = 774
	oidMoney         = 790
	oidMacaddr       = 829
	oidInet          = 869
	oidAclitem       = 1033
	oidBpchar        = 1042
	oidVarchar       = 1043
	oidDate          = 1082
	oidTime          = 1083
	oidTimestamp     = 1114
	oidTimestamptz   = 1184
	oidInterval      = 1186
	oidTimetz        = 1266
	oidBit           = 1560
	oidVarbit        = 1562
	oidNumeric       = 1700
	oidRefcursor     = 1790
	oidRegprocedure  = 2202
	oidRegoper       = 2203
	oidRegoperator   = 2204
	oidRegclass      = 2205
	oidRegtype       = 2206
	oidUUID          = 2950
	oidTxidSnapshot  = 2970
	oidPgLSN         = 3220
	oidTSVector      = 3614
	oidTSQuery       = 3615
	oidRegconfig     = 3734
	oidRegdictionary = 3769
	oidJSONB         = 3802
	oidJSONPath      = 4072
	oidRegnamespace  = 4089
	oidRegrole       = 4096
	oidRegcollation  = 4191
	oidPgSnapshot    = 5038
	oidXID8          = 5069
)

// builtinKind is the rule for a base type in pg_catalog, by OID.
func builtinKind(oid uint32) (valueKind, bool) {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID, oidXID, oidXID8, oidCID:
		return kindInt, true
	case oidFloat4, oidFloat8:
		return kindFloat, true
	case oidBool:
		return kindBool, true
	case oidBytea:
		return kindBytea, true
	case oidNumeric,
		oidText, oidVarchar, oidBpchar, oidName, oidChar, oidXML,
		oidUUID, oidInet, oidCidr, oidMacaddr, oidMacaddr8, oidMoney,
		oidBit, oidVarbit,
		oidDate, oidTime, oidTimetz, oidTimestamp, oidTimestamptz, oidInterval,
		oidTSVector, oidTSQuery,
		oidPoint, oidLine, oidLseg, oidBox, oidPath, oidPolygon, oidCircle,
		oidPgLSN, oidJSON, oidJSONB,
		// Further built-in scalars whose text is a plain token; strings
		// rather than $type objects, since their type is fixed.
		oidInt2Vector, oidOIDVector, oidTID, oidJSONPath, oidRefcursor,
		oidTxidSnapshot, oidPgSnapshot, oidAclitem,
		oidRegproc, oidRegprocedure, oidRegoper, oidRegoperator, oidRegclass,
		oidRegtype, oidRegrole, oidRegnamespace, oidRegcollation,
		oidRegconfig, oidRegdictionary:
		return kindString, true
	}
	return kindOther, false
}

// NewTypes builds a type map from a list of pg_type rows. Later duplicates
// of an OID replace earlier ones. Domains whose base type is missing (or
// whose chain loops) decode as "$type" objects named after the domain.
func NewTypes(list []TypeInfo) *Types {
	ts := &Types{byOID: make(map[uint32]*typeEntry, len(list))}
	for _, ti := range list {
		e := &typeEntry{info: ti}
		e.info.set = ts
		ts.byOID[ti.OID] = e
	}
	// Pass 1: rules of non-domain types.
	for _, e := range ts.byOID {
		if e.info.Type != 'd' {
			ts.classify(e)
		}
	}
	// Pass 2: a domain takes the rule of its base type.
	for _, e := range ts.byOID {
		if e.info.Type != 'd' {
			continue
		}
		base := ts.resolve(e)
		if base == nil {
			e.kind, e.typeName = kindOther, e.info.Name
			continue
		}
		e.kind, e.typeName, e.elem, e.delim = base.kind, base.typeName, base.elem, base.delim
	}
	return ts
}

// classify sets the rule of a non-domain type.
func (ts *Types) classify(e *typeEntry) {
	ti := &e.info
	e.typeName = ti.Name
	if isArrayType(ti) {
		e.kind = kindArray
		e.delim = ','
		if el, ok := ts.byOID[ti.Elem]; ok {
			e.elem = el
			if el.info.Delim != 0 {
				e.delim = el.info.Delim
			}
		} else {
			// The element type is not in the map: its values become
			// "$type" objects named by the decimal OID.
			name := fmt.Sprint(ti.Elem)
			e.elem = &typeEntry{info: TypeInfo{OID: ti.Elem, Name: name}, kind: kindOther, typeName: name}
			if ti.Elem == oidBox {
				e.delim = ';'
			}
		}
		return
	}
	switch ti.Type {
	case 'e', 'r', 'm':
		e.kind = kindString
		return
	case 'b':
		if k, ok := builtinKind(ti.OID); ok && ti.OID < 16384 {
			e.kind = k
			return
		}
		if ti.Category == 'S' && unqualified(ti.Name) == "citext" {
			e.kind = kindString
			return
		}
	}
	e.kind = kindOther
}

// isArrayType reports whether t prints as a PostgreSQL array literal.
// int2vector and oidvector have typcategory 'A' and a typelem but print
// space-separated lists, so they are not.
func isArrayType(t *TypeInfo) bool {
	return t.Category == 'A' && t.Elem != 0 && t.OID != oidInt2Vector && t.OID != oidOIDVector
}

func unqualified(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// resolve follows domains from e to the first non-domain type; nil when a
// base type is missing or the chain is too long.
func (ts *Types) resolve(e *typeEntry) *typeEntry {
	for range maxDomainDepth {
		if e.info.Type != 'd' {
			return e
		}
		next, ok := ts.byOID[e.info.Base]
		if !ok {
			return nil
		}
		e = next
	}
	return nil
}

// Lookup returns the type with the given OID. The TypeInfo belongs to ts;
// do not modify it.
func (ts *Types) Lookup(oid uint32) (*TypeInfo, bool) {
	e, ok := ts.byOID[oid]
	if !ok {
		return nil, false
	}
	return &e.info, true
}

// Resolve returns the type with the given OID after following domains to
// their base type. It reports false when the OID, or a base type on the
// way, is unknown.
func (ts *Types) Resolve(oid uint32) (*TypeInfo, bool) {
	e, ok := ts.byOID[oid]
	if !ok {
		return nil, false
	}
	if e = ts.resolve(e); e == nil {
		return nil, false
	}
	return &e.info, true
}

// Len returns the number of types in the map.
func (ts *Types) Len() int { return len(ts.byOID) }

// loadTypesSQL reads every type of the database in one query. "char"
// columns are cast to text so they scan into strings.
const loadTypesSQL = `SELECT t.oid,
       CASE WHEN n.nspname = 'pg_catalog' THEN t.typname::text
            ELSE n.nspname || '.' || t.typname END,
       t.typtype::text, t.typcategory::text, t.typelem, t.typbasetype, t.typdelim::text
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace`

// LoadTypes reads pg_type over conn. Call it again (and swap the result in)
// after a relation message names a type OID that the current map lacks.
func LoadTypes(ctx context.Context, conn *pgx.Conn) (*Types, error) {
	rows, err := conn.Query(ctx, loadTypesSQL)
	if err != nil {
		return nil, fmt.Errorf("load types: query pg_type: %w", err)
	}
	defer rows.Close()
	var list []TypeInfo
	for rows.Next() {
		var (
			ti                       TypeInfo
			typtype, category, delim string
		)
		if err := rows.Scan(&ti.OID, &ti.Name, &typtype, &category, &ti.Elem, &ti.Base, &delim); err != nil {
			return nil, fmt.Errorf("load types: scan pg_type row: %w", err)
		}
		ti.Type, ti.Category, ti.Delim = firstByte(typtype), firstByte(category), firstByte(delim)
		list = append(list, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load types: read pg_type: %w", err)
	}
	return NewTypes(list), nil
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}
