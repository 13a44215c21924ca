package check

// Fields lists every field lote reads, in the order of DESIGN.md "The sheet".
func Fields() []Field {
	out := make([]Field, numFields)
	for i := range out {
		out[i] = Field(i)
	}
	return out
}
