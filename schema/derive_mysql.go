package schema

import (
	"fmt"
	"strconv"
)

// mysqlSpec chooses the Avro shape of a MySQL/MariaDB column type.
func mysqlSpec(c *Column, ns string) (*spec, error) {
	name, unsigned := mysqlType(c)
	switch name {
	case "tinyint", "smallint", "mediumint", "int1", "int2", "int3":
		return &spec{kind: tInt}, nil
	case "int", "integer", "int4":
		if unsigned {
			return &spec{kind: tLong}, nil
		}
		return &spec{kind: tInt}, nil
	case "bigint", "int8":
		if unsigned {
			return &spec{kind: tUInt64}, nil
		}
		return &spec{kind: tLong}, nil
	case "year":
		return &spec{kind: tInt}, nil
	case "bit":
		if c.Length < 1 || c.Length > 64 {
			return nil, fmt.Errorf("BIT(%d): length must be 1..64: %w", c.Length, ErrTable)
		}
		if c.Length == 64 {
			return &spec{kind: tUInt64}, nil
		}
		return &spec{kind: tLong}, nil
	case "decimal", "numeric", "dec", "fixed":
		if c.Precision < 1 || c.Precision > 65 || c.Scale < 0 || c.Scale > 30 || c.Scale > c.Precision {
			return nil, fmt.Errorf("DECIMAL(%d,%d): precision must be 1..65 and scale 0..min(30, precision): %w", c.Precision, c.Scale, ErrTable)
		}
		return &spec{kind: tDecimal, prec: c.Precision, scale: c.Scale, text: "string"}, nil
	case "float":
		return &spec{kind: tFloat}, nil
	case "double", "real", "double precision":
		return &spec{kind: tDouble}, nil
	case "enum":
		syms := make([]string, 0, len(c.EnumValues)+1)
		syms = append(syms, mysqlEmptySymbol)
		syms = append(syms, c.EnumValues...)
		if validSymbols(syms) {
			return &spec{kind: tEnum, symbols: syms, enumDefault: mysqlEmptySymbol, name: ns + "." + nameEnum}, nil
		}
		return &spec{kind: tString}, nil
	case "set":
		return &spec{kind: tString}, nil
	case "char", "varchar", "var_string", "string", "tinytext", "text", "mediumtext", "longtext", "blob", "tinyblob", "mediumblob", "longblob":
		if c.Binary || name == "blob" || name == "tinyblob" || name == "mediumblob" || name == "longblob" {
			return &spec{kind: tBytes}, nil
		}
		return &spec{kind: tString}, nil
	case "binary", "varbinary":
		return &spec{kind: tBytes}, nil
	case "json":
		return &spec{kind: tString}, nil
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return &spec{kind: tBytes}, nil
	case "date", "newdate":
		return &spec{kind: tDate, text: nsMySQL + ".Date"}, nil
	case "time", "datetime", "timestamp":
		fsp := c.Precision
		if fsp < 0 || fsp > 6 {
			return nil, fmt.Errorf("%s(%d): fractional seconds precision must be 0..6: %w", name, fsp, ErrTable)
		}
		kind, rec := tTimeMicros, "Time"
		switch name {
		case "datetime":
			kind, rec = tLocalTimestamp, "Datetime"
		case "timestamp":
			kind, rec = tTimestamp, "Timestamp"
		}
		return &spec{kind: kind, text: nsMySQL + "." + rec + strconv.Itoa(fsp)}, nil
	}
	return &spec{kind: tOther, name: nameMySQLOther}, nil
}
