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
// the cache on most steps. It is a DFA nonetheless, with no failure links to
// walk while matching: the root keeps a dense edge per character class, and
// every other transition that does not lead where the root's would (26,700
// of the built-in knowledge's 7.3 million state–class pairs) is kept with
// its state, sorted by class: 0.36 MB in all. A step is a bit test and, for
// the few characters that continue a match, a short scan.
type automaton struct {
	class []uint16 // rune → class; runes in no phrase (and beyond the table) are class 0
	root  []int32  // class → state after the root
	// The transitions that differ from the root's: state s's are on the
	// classes tclass[at[s]:at[s+1]], in order, to the states in tto.
	at     []int32
	tclass []uint16
	tto    []int32
	// sketch is, per state, a 64-bit summary (class mod 64) of the classes
	// of its transitions: a class not in it goes to the root's edge without
	// a scan.
	sketch []uint64
	outAt  []int32 // state → IDs of the phrases ending there, its own and its failure states': outs[outAt[s]:outAt[s+1]]
	outs   []int32
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
	out := [][]int32{nil} // state → phrases ending there
	for id, p := range phrases {
		s := int32(0)
		for _, r := range p {
			c := a.class[r]
			t, ok := children[s][c]
			if !ok {
				t = int32(len(children))
				children = append(children, map[uint16]int32{})
				out = append(out, nil)
				children[s][c] = t
			}
			s = t
		}
		out[s] = append(out[s], int32(id))
	}
	// Edges in order of state, each state's sorted by class; with failure
	// links they make the automaton of the textbook, which the DFA is
	// computed from and then forgotten.
	t := &trie{first: make([]int32, len(children)+1), root: make([]int32, classes)}
	for s, ch := range children {
		t.first[s] = int32(len(t.edges))
		for c, to := range ch {
			t.edges = append(t.edges, edge{class: c, to: to})
		}
		slices.SortFunc(t.edges[t.first[s]:], func(x, y edge) int { return int(x.class) - int(y.class) })
	}
	t.first[len(children)] = int32(len(t.edges))
	for c, to := range children[0] {
		t.root[c] = to
	}
	a.root = t.root
	// Failure links by breadth-first search; outputs of the failure state
	// are appended after a state's own.
	t.fail = make([]int32, len(children))
	order := make([]int32, 0, len(children))
	for _, e := range t.edges[t.first[0]:t.first[1]] {
		order = append(order, e.to)
	}
	for i := 0; i < len(order); i++ {
		s := order[i]
		out[s] = append(out[s], out[t.fail[s]]...)
		for _, e := range t.edges[t.first[s]:t.first[s+1]] {
			t.fail[e.to] = t.step(t.fail[s], e.class)
			order = append(order, e.to)
		}
	}
	a.outAt = make([]int32, len(children)+1)
	for s, o := range out {
		a.outAt[s] = int32(len(a.outs))
		a.outs = append(a.outs, o...)
	}
	a.outAt[len(children)] = int32(len(a.outs))
	// The DFA: a state's transitions that differ from the root's are on
	// classes with an edge from it or from a state on its failure chain.
	type move struct {
		class uint16
		to    int32
	}
	var moves []move
	a.sketch = make([]uint64, len(children))
	a.at = make([]int32, len(children)+1)
	done := make([]int32, classes) // the state whose transition on a class is known
	for s := int32(1); s < int32(len(children)); s++ {
		a.at[s] = int32(len(moves))
		for u := s; u != 0; u = t.fail[u] {
			for _, e := range t.edges[t.first[u]:t.first[u+1]] {
				if done[e.class] == s {
					continue // a shallower state of the chain has it too
				}
				done[e.class] = s
				to := t.step(s, e.class)
				if to == t.root[e.class] {
					continue
				}
				a.sketch[s] |= 1 << (e.class & 63)
				moves = append(moves, move{e.class, to})
			}
		}
		// The state's moves side by side, by class.
		slices.SortFunc(moves[a.at[s]:], func(x, y move) int { return int(x.class) - int(y.class) })
	}
	a.at[len(children)] = int32(len(moves))
	a.tclass = make([]uint16, len(moves))
	a.tto = make([]int32, len(moves))
	for i, m := range moves {
		a.tclass[i], a.tto[i] = m.class, m.to
	}
	return a
}

// step is the state after s on a character of class c (c > 0).
func (a *automaton) step(s int32, c uint16) int32 {
	if a.sketch[s]&(1<<(c&63)) == 0 {
		return a.root[c]
	}
	from, to := a.at[s], a.at[s+1]
	for j, x := range a.tclass[from:to] {
		if x >= c {
			if x == c {
				return a.tto[int(from)+j]
			}
			break
		}
	}
	return a.root[c]
}

// trie is the automaton as built: each state's own edges, sorted, and a
// failure link.
type trie struct {
	root  []int32
	first []int32 // state → its edges are edges[first[s]:first[s+1]]
	edges []edge
	fail  []int32
}

type edge struct {
	class uint16
	to    int32
}

// step is the state after s on class c, walking failure links.
func (t *trie) step(s int32, c uint16) int32 {
	for s != 0 {
		es := t.edges[t.first[s]:t.first[s+1]]
		if i, ok := slices.BinarySearchFunc(es, c, func(e edge, c uint16) int { return int(e.class) - int(c) }); ok {
			return es[i].to
		}
		s = t.fail[s]
	}
	return t.root[c]
}

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
		for _, id := range a.outs[a.outAt[s]:a.outAt[s+1]] {
			hit(id, i)
		}
	}
}
