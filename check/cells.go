package check

// TrimCells returns cells without their trailing empty ones. Whoever
// shows or writes the row pads it back to the header's width.
func TrimCells(cells []string) []string {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return cells[:n]
}
