package knowledge

// automaton is an Aho-Corasick automaton over bytes: all phrases are found
// in one pass over the text, whatever their number. Phrases are valid UTF-8,
// and UTF-8 is self-synchronising, so byte matches always fall on character
// boundaries.
//
// Transitions are a full DFA over byte classes: bytes that occur in no
// phrase share class 0, which always leads back to the root.
type automaton struct {
	class   [256]uint8
	classes int
	next    []int32  // state*classes + class → state, while building
	table   []uint16 // the same, packed, with outputBit on states that have output
	out     [][]int32
}

const (
	outputBit = 1 << 15
	maxStates = outputBit - 1
)

// buildAutomaton returns the automaton for phrases, or nil if they need
// more than maxStates states.
func buildAutomaton(phrases []string) *automaton {
	a := &automaton{}
	for _, p := range phrases {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.classes++
				a.class[p[i]] = uint8(a.classes)
			}
		}
	}
	a.classes++ // class 0
	if a.classes > 256 {
		panic("knowledge: byte classes overflow") // impossible: at most 255 non-zero classes + 1
	}
	// Trie.
	a.next = make([]int32, a.classes)
	a.out = [][]int32{nil}
	for id, p := range phrases {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int32(a.class[p[i]])
			if a.next[s*int32(a.classes)+c] == 0 {
				a.next = append(a.next, make([]int32, a.classes)...)
				a.out = append(a.out, nil)
				a.next[s*int32(a.classes)+c] = int32(len(a.out) - 1)
			}
			s = a.next[s*int32(a.classes)+c]
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Failure links by breadth-first search, turning the trie into a DFA.
	fail := make([]int32, len(a.out))
	queue := make([]int32, 0, len(a.out))
	for c := 1; c < a.classes; c++ {
		if s := a.next[c]; s != 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := 1; c < a.classes; c++ {
			t := a.next[s*int32(a.classes)+int32(c)]
			f := a.next[fail[s]*int32(a.classes)+int32(c)]
			if t != 0 {
				fail[t] = f
				queue = append(queue, t)
			} else {
				a.next[s*int32(a.classes)+int32(c)] = f
			}
		}
	}
	// Pack the table into 16 bits a cell, the top bit marking states with
	// output: half the memory keeps more of it in cache, which is what
	// bounds the hot loop.
	if len(a.out) > maxStates {
		return nil
	}
	a.table = make([]uint16, len(a.next))
	for i, t := range a.next {
		v := uint16(t)
		if len(a.out[t]) > 0 {
			v |= outputBit
		}
		a.table[i] = v
	}
	a.next = nil
	return a
}

// find calls hit with the ID of every phrase occurring in text and the
// offset just past its end, once per occurrence.
func (a *automaton) find(text []byte, hit func(id int32, end int)) {
	s := 0
	n := a.classes
	for i, b := range text {
		v := a.table[s*n+int(a.class[b])]
		s = int(v &^ outputBit)
		if v&outputBit != 0 {
			for _, id := range a.out[s] {
				hit(id, i+1)
			}
		}
	}
}
