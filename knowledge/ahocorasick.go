package knowledge

import (
	"slices"
	"unicode/utf8"
)

// automaton is an Aho-Corasick automaton over runes: all phrases are found
// in one pass over the text, whatever their number.
//
// It steps one character at a time, not one byte: Chinese takes three bytes
// a character, so a byte automaton has three times the states and steps,
// and its full transition table (2.9 MB for the built-in knowledge) misses
// the cache on most steps. Here each state keeps only its own edges, sorted,
// and a failure link; the root keeps a dense edge per character class. The
// whole automaton fits in a few hundred kilobytes.
type automaton struct {
	class []uint16 // rune → class; runes in no phrase (and beyond the table) are class 0
	root  []int32  // class → state after the root
	first []int32  // state → its edges are edges[first[s]:first[s+1]]
	edges []edge
	fail  []int32
	out   [][]int32 // state → IDs of the phrases ending there, its own and its failure states'
	// chain is, per state, a 64-bit sketch (class mod 64) of the classes
	// with an edge from it or from any state on its failure chain short of
	// the root. A class not in it leads, whatever the chain, to the root's
	// edge: most characters end a partial match, and skip the walk.
	chain []uint64
}

type edge struct {
	class uint16
	to    int32
}

// maxClasses bounds the distinct characters of all phrases.
const maxClasses = 1<<16 - 1

// buildAutomaton returns the automaton for phrases, or nil if they hold
// more than maxClasses distinct characters.
func buildAutomaton(phrases []string) *automaton {
	a := &automaton{}
	maxRune := rune(0)
	for _, p := range phrases {
		for _, r := range p {
			maxRune = max(maxRune, r)
		}
	}
	a.class = make([]uint16, maxRune+1)
	classes := 1
	for _, p := range phrases {
		for _, r := range p {
			if a.class[r] == 0 {
				if classes > maxClasses {
					return nil
				}
				a.class[r] = uint16(classes)
				classes++
			}
		}
	}
	// Trie, with a map of edges per state while building.
	children := []map[uint16]int32{{}}
	a.out = [][]int32{nil}
	for id, p := range phrases {
		s := int32(0)
		for _, r := range p {
			c := a.class[r]
			t, ok := children[s][c]
			if !ok {
				t = int32(len(children))
				children = append(children, map[uint16]int32{})
				a.out = append(a.out, nil)
				children[s][c] = t
			}
			s = t
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Edges in order of state, each state's sorted by class.
	a.first = make([]int32, len(children)+1)
	for s, ch := range children {
		a.first[s] = int32(len(a.edges))
		for c, t := range ch {
			a.edges = append(a.edges, edge{class: c, to: t})
		}
		slices.SortFunc(a.edges[a.first[s]:], func(x, y edge) int { return int(x.class) - int(y.class) })
	}
	a.first[len(children)] = int32(len(a.edges))
	a.root = make([]int32, classes)
	for c, t := range children[0] {
		a.root[c] = t
	}
	// Failure links by breadth-first search; outputs of the failure state
	// are appended after a state's own, as the byte automaton did.
	a.fail = make([]int32, len(children))
	a.chain = make([]uint64, len(children))
	queue := make([]int32, 0, len(children))
	for _, e := range a.edges[a.first[0]:a.first[1]] {
		queue = append(queue, e.to)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[a.fail[s]]...)
		// The failure state is shallower, so done before s.
		a.chain[s] = a.chain[a.fail[s]]
		for _, e := range a.edges[a.first[s]:a.first[s+1]] {
			a.chain[s] |= 1 << (e.class & 63)
		}
		for _, e := range a.edges[a.first[s]:a.first[s+1]] {
			a.fail[e.to] = a.step(a.fail[s], e.class)
			queue = append(queue, e.to)
		}
	}
	return a
}

// step is the state after s on a character of class c (c > 0).
func (a *automaton) step(s int32, c uint16) int32 {
	if a.chain[s]&(1<<(c&63)) == 0 {
		return a.root[c]
	}
	for s != 0 {
		es := a.edges[a.first[s]:a.first[s+1]]
		if len(es) <= linearEdges {
			for _, e := range es {
				if e.class == c {
					return e.to
				}
			}
		} else if i, ok := slices.BinarySearchFunc(es, c, func(e edge, c uint16) int { return int(e.class) - int(c) }); ok {
			return es[i].to
		}
		s = a.fail[s]
	}
	return a.root[c]
}

// linearEdges: up to this many edges are scanned, beyond it searched.
const linearEdges = 8

// find calls hit with the ID of every phrase occurring in text and the
// offset just past its end, once per occurrence.
func (a *automaton) find(text []byte, hit func(id int32, end int)) {
	s := int32(0)
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		switch c := text[i]; {
		case c < utf8.RuneSelf:
		case c >= 0xE0 && c < 0xF0 && i+2 < len(text):
			// Three bytes, as every Chinese character: the text is the
			// normaliser's, valid UTF-8, so no checks beyond the length.
			r, size = rune(c&0x0F)<<12|rune(text[i+1]&0x3F)<<6|rune(text[i+2]&0x3F), 3
		default:
			r, size = utf8.DecodeRune(text[i:])
		}
		i += size
		if int(r) >= len(a.class) || a.class[r] == 0 {
			s = 0 // in no phrase: back to the root
			continue
		}
		s = a.step(s, a.class[r])
		for _, id := range a.out[s] {
			hit(id, i)
		}
	}
}
