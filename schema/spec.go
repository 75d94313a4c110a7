package schema

// spec is the Avro shape Derive chose for one column (or array element),
// before it is written as schema JSON. The codec never sees a spec: it
// compiles the parsed schema, so a consumer holding only the registry's
// schema decodes the same way.
type spec struct {
	kind  tkind
	prec  int // tDecimal
	scale int // tDecimal
	// symbols and enumDefault of a tEnum; name is the full name of a
	// per-column named type (tEnum).
	symbols     []string
	enumDefault string
	name        string
	elem        *spec // tArray: the element's spec (without its null branch)
	multiName   string
	// text is the special-value branch: "" none, "string" for a plain
	// string branch, otherwise the full name of a {text: string} record.
	text      string
	unchanged bool // PostgreSQL: the unchanged-TOAST branch
}

// tkind is the typed (main) branch of a column's Avro type.
type tkind uint8

const (
	tInt            tkind = iota + 1 // "int"
	tLong                            // "long"
	tFloat                           // "float"
	tDouble                          // "double"
	tBool                            // "boolean"
	tString                          // "string"
	tBytes                           // "bytes"
	tUUID                            // string / uuid
	tDecimal                         // bytes / decimal(prec, scale)
	tUInt64                          // fixed cairn.mysql.UInt64 (9 bytes) / decimal(20,0)
	tDate                            // int / date
	tTimeMicros                      // long / time-micros
	tTimestamp                       // long / timestamp-micros
	tLocalTimestamp                  // long / local-timestamp-micros
	tTimeTZ                          // record cairn.postgres.TimeTZ
	tInterval                        // record cairn.postgres.Interval
	tEnum                            // enum
	tOther                           // record cairn.<flavor>.Other {type, text}
	tArray                           // array of ["null", elem...]
)

// Full names of the shared named types.
const (
	nsPostgres        = "cairn.postgres"
	nsMySQL           = "cairn.mysql"
	nameUnchanged     = nsPostgres + ".Unchanged"
	nameTimeTZ        = nsPostgres + ".TimeTZ"
	nameInterval      = nsPostgres + ".Interval"
	namePGOther       = nsPostgres + ".Other"
	nameMySQLOther    = nsMySQL + ".Other"
	nameUInt64        = nsMySQL + ".UInt64"
	nameMultiDim      = "MultiDim" // short name, in the column's namespace
	nameEnum          = "Enum"     // short name, in the column's namespace
	nameItemNamespace = "item"     // namespace component for array elements
	mysqlEmptySymbol  = "__empty"  // MySQL ENUM index 0 (the invalid-value member "")
	uint64FixedSize   = 9          // two's complement big-endian, holds 0..2^64-1
)
