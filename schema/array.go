package schema

// PostgreSQL arrays. A one-dimensional value ([1,null,3]) is the typed
// branch, an Avro array of nullable items. A rectangular multi-dimensional
// value ([[1,2],[3,4]]) is the MultiDim record: its dimensions and its
// elements in row-major order. A literal with explicit bounds, which the
// row image keeps as one string ("[0:1]={7,8}"), is the text branch.
// An array whose element type is itself an array type (a domain over an
// array) is always read as one dimension of array elements, as the row
// image cannot tell its dimensions apart from its elements.

const maxArrayDims = 16

// countElems counts the elements of the JSON array at p.pos without
// moving p; first is the position of the first element.
func countElems(p scanner) (count int64, first int, err error) {
	p.pos++ // '['
	first = p.pos
	if p.expect(']') {
		return 0, first, nil
	}
	for {
		if err := p.skip(0); err != nil {
			return 0, 0, err
		}
		count++
		if p.expect(']') {
			return count, first, nil
		}
		if !p.expect(',') {
			return 0, 0, p.errf("want ',' or ']'")
		}
	}
}

func (e *encoder) array(dst []byte, n *node) ([]byte, bool, error) {
	sc := &e.sc
	switch sc.peek() {
	case '"':
		return dst, false, nil // explicit bounds: the text branch
	case '[':
	default:
		return dst, false, e.valueErr(n, "not an array")
	}
	count, first, err := countElems(*sc)
	if err != nil {
		return dst, false, err
	}
	if n.multi >= 0 && n.elem.kind != tArray && count > 0 && first < len(sc.src) && sc.src[first] == '[' {
		// The typed index (one byte: indexes are small) becomes MultiDim's.
		dst[len(dst)-1] = byte(n.multi << 1)
		return e.multiDim(dst, n)
	}
	sc.pos++
	if count > 0 {
		dst = appendLong(dst, count)
		for i := int64(0); i < count; i++ {
			if i > 0 && !sc.expect(',') {
				return dst, false, sc.errf("want ','")
			}
			if dst, err = e.value(dst, n.elem); err != nil {
				return dst, false, err
			}
		}
	}
	if !sc.expect(']') {
		return dst, false, sc.errf("want ']'")
	}
	return append(dst, 0), true, nil
}

func (e *encoder) multiDim(dst []byte, n *node) ([]byte, bool, error) {
	dims := e.dims[:0]
	probe := e.sc
	total := int64(1)
	for probe.peek() == '[' {
		if len(dims) == maxArrayDims {
			return dst, false, e.valueErr(n, "too many array dimensions")
		}
		count, first, err := countElems(probe)
		if err != nil {
			return dst, false, err
		}
		dims = append(dims, count)
		total *= count
		if count == 0 {
			break
		}
		probe.pos = first
	}
	e.dims = dims
	dst = appendLong(dst, int64(len(dims)))
	for _, d := range dims {
		dst = appendLong(dst, d)
	}
	dst = append(dst, 0)
	if total > 0 {
		dst = appendLong(dst, total)
	}
	var err error
	if dst, err = e.walk(dst, n, 0); err != nil {
		return dst, false, err
	}
	return append(dst, 0), true, nil
}

// walk encodes the elements of a rectangular nested array of e.dims.
func (e *encoder) walk(dst []byte, n *node, depth int) ([]byte, error) {
	sc := &e.sc
	if !sc.expect('[') {
		return dst, e.valueErr(n, "not a rectangular multi-dimensional array")
	}
	want := e.dims[depth]
	var err error
	for i := int64(0); i < want; i++ {
		if i > 0 && !sc.expect(',') {
			return dst, e.valueErr(n, "not a rectangular multi-dimensional array")
		}
		if depth == len(e.dims)-1 {
			if sc.peek() == '[' {
				return dst, e.valueErr(n, "not a rectangular multi-dimensional array")
			}
			dst, err = e.value(dst, n.elem)
		} else {
			dst, err = e.walk(dst, n, depth+1)
		}
		if err != nil {
			return dst, err
		}
	}
	if !sc.expect(']') {
		return dst, e.valueErr(n, "not a rectangular multi-dimensional array")
	}
	return dst, nil
}
