package replay

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cairnlog/cairn/journal"
)

// Filter selects the records a subscription delivers. Each dimension that is
// empty matches everything; the dimensions that are set must all match.
//
//   - Kinds: the record's kind is one of Kinds.
//   - Tables: the record's table is one of Tables (exact, case-sensitive:
//     "schema.table" as the capture wrote it).
//   - Ops: the record's op is one of Ops.
//
// Records without a table or op. Transaction frames (tx_begin, tx_commit),
// heartbeats, gaps, app events and checkpoints carry no table, and only row
// changes carry an op. When Tables (or Ops) is set, such a record passes that
// dimension only if Kinds names its kind explicitly. So:
//
//	Tables=[shop.orders]                                 orders rows only, no frames
//	Tables=[shop.orders] Kinds=[change tx_begin tx_commit]  orders changes plus the
//	                                                     begin/commit of EVERY transaction
//	Tables=[shop.orders] Kinds=[change gap]              orders changes, and the gaps
//
// Rationale: a consumer that filters by table usually wants rows, and most
// transactions would otherwise arrive as empty begin/commit pairs. A consumer
// that applies changes transactionally asks for the frames; Match looks at one
// record at a time, so it cannot know whether a transaction touches a
// matching table and keeps the frames of every transaction (one with no
// matching change shows up as a begin directly followed by its commit, which
// the consumer may skip). A consumer that must notice source data loss while
// filtering by table lists gap in Kinds.
//
// The same rule applies to a record with a table but no op (snapshot_read,
// schema) under an Ops filter: Ops=[insert] does not deliver snapshot reads
// unless Kinds names snapshot_read.
type Filter struct {
	Tables []string
	Ops    []journal.Op
	Kinds  []journal.Kind
}

// acceptedOps is the list shown in errors; OpNone is not a filterable op.
var acceptedOps = []journal.Op{journal.OpInsert, journal.OpUpdate, journal.OpDelete, journal.OpTruncate, journal.OpDDL}

func acceptedOpNames() string {
	names := make([]string, len(acceptedOps))
	for i, o := range acceptedOps {
		names[i] = o.String()
	}
	return strings.Join(names, ", ")
}

func acceptedKindNames() string {
	var names []string
	for k := 1; k < 256; k++ {
		if journal.Kind(k).Valid() {
			names = append(names, journal.Kind(k).String())
		}
	}
	return strings.Join(names, ", ")
}

// splitList flattens values that may each hold a comma-separated list
// ("a,b" as a REST query parameter) and trims spaces. An empty item is an error.
func splitList(what string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				return nil, fmt.Errorf("%w: filter %s: empty name in %q", ErrInvalidArgument, what, v)
			}
			out = append(out, item)
		}
	}
	return out, nil
}

// ParseFilter builds a Filter from names as a user or an API request gives
// them. Each value may be a single name or a comma-separated list. Tables
// are kept as given; ops (insert, update, delete, truncate, ddl) and kinds
// (journal.ParseKind names: change, tx_begin, ...) are case-insensitive.
// A bad value is an ErrInvalidArgument naming it and the accepted values.
// Repeated values are kept once.
func ParseFilter(tables, ops, kinds []string) (Filter, error) {
	var f Filter
	ts, err := splitList("tables", tables)
	if err != nil {
		return Filter{}, err
	}
	for _, t := range ts {
		if !slices.Contains(f.Tables, t) {
			f.Tables = append(f.Tables, t)
		}
	}
	opList, err := splitList("ops", ops)
	if err != nil {
		return Filter{}, err
	}
	for _, s := range opList {
		o, err := journal.ParseOp(strings.ToLower(s))
		if err != nil || o == journal.OpNone {
			return Filter{}, fmt.Errorf("%w: filter ops: unknown op %q (accepted: %s)", ErrInvalidArgument, s, acceptedOpNames())
		}
		if !slices.Contains(f.Ops, o) {
			f.Ops = append(f.Ops, o)
		}
	}
	kindList, err := splitList("kinds", kinds)
	if err != nil {
		return Filter{}, err
	}
	for _, s := range kindList {
		k, err := journal.ParseKind(strings.ToLower(s))
		if err != nil {
			return Filter{}, fmt.Errorf("%w: filter kinds: unknown kind %q (accepted: %s)", ErrInvalidArgument, s, acceptedKindNames())
		}
		if !slices.Contains(f.Kinds, k) {
			f.Kinds = append(f.Kinds, k)
		}
	}
	return f, nil
}

// Validate reports the first value of a Filter built by hand that ParseFilter
// would have refused.
func (f Filter) Validate() error {
	for _, t := range f.Tables {
		if t == "" {
			return fmt.Errorf("%w: filter tables: empty table name", ErrInvalidArgument)
		}
	}
	for _, o := range f.Ops {
		if !slices.Contains(acceptedOps, o) {
			return fmt.Errorf("%w: filter ops: unknown op %s (accepted: %s)", ErrInvalidArgument, o, acceptedOpNames())
		}
	}
	for _, k := range f.Kinds {
		if !k.Valid() {
			return fmt.Errorf("%w: filter kinds: unknown kind %s (accepted: %s)", ErrInvalidArgument, k, acceptedKindNames())
		}
	}
	return nil
}

// IsZero reports whether f matches every record.
func (f Filter) IsZero() bool { return len(f.Tables) == 0 && len(f.Ops) == 0 && len(f.Kinds) == 0 }

// Match reports whether r passes the filter (see Filter for the rules).
func (f Filter) Match(r *journal.Record) bool {
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, r.Kind) {
		return false
	}
	// Past this point, a kind listed explicitly in Kinds excuses a record that
	// has no table (or no op) from the Tables (or Ops) dimension.
	explicit := len(f.Kinds) > 0
	if len(f.Tables) > 0 && !slices.Contains(f.Tables, r.Table) {
		if r.Table != "" || !explicit {
			return false
		}
	}
	if len(f.Ops) > 0 && !slices.Contains(f.Ops, r.Op) {
		if r.Op != journal.OpNone || !explicit {
			return false
		}
	}
	return true
}

// String describes the filter for logs ("tables=a,b ops=insert kinds=change";
// "all" when empty).
func (f Filter) String() string {
	if f.IsZero() {
		return "all"
	}
	var parts []string
	if len(f.Tables) > 0 {
		parts = append(parts, "tables="+strings.Join(f.Tables, ","))
	}
	if len(f.Ops) > 0 {
		s := make([]string, len(f.Ops))
		for i, o := range f.Ops {
			s[i] = o.String()
		}
		parts = append(parts, "ops="+strings.Join(s, ","))
	}
	if len(f.Kinds) > 0 {
		s := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			s[i] = k.String()
		}
		parts = append(parts, "kinds="+strings.Join(s, ","))
	}
	return strings.Join(parts, " ")
}
