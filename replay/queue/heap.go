package queue

// An item is in at most one of a group's two heaps at a time: the ready heap
// (leasable now, by seq) or the timer heap (delayed or leased, by due time),
// so one index field serves both.

// readyHeap orders leasable items by seq (journal order).
type readyHeap []*item

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h readyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *readyHeap) Push(x any) { it := x.(*item); it.hidx = len(*h); *h = append(*h, it) }
func (h *readyHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.hidx = -1
	return it
}

// timerHeap orders delayed and leased items by due (not-before or deadline).
type timerHeap []*item

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *timerHeap) Push(x any) { it := x.(*item); it.hidx = len(*h); *h = append(*h, it) }
func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.hidx = -1
	return it
}
