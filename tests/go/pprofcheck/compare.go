package main

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// frameText renders one location, one line per entry of its lines (inlined
// callees before their caller, as stored), each naming its function, line,
// address, mapping and folding so that a location attached to the wrong
// mapping or function is caught too.
func frameText(l *profile.Location) string {
	m := ""
	if l.Mapping != nil {
		m = fmt.Sprintf("%x:%s:%s", l.Mapping.Start, l.Mapping.File, l.Mapping.BuildID)
	}
	tail := fmt.Sprintf("|%#x|%s|%v", l.Address, m, l.IsFolded)
	if len(l.Line) == 0 {
		return "||||" + tail
	}
	var b strings.Builder
	for i, ln := range l.Line {
		f := ln.Function
		if f == nil {
			f = &profile.Function{}
		}
		if i > 0 {
			b.WriteString(" ; ")
		}
		fmt.Fprintf(&b, "%s|%s|%s|%d|%d%s", f.Name, f.SystemName, f.Filename, f.StartLine, ln.Line, tail)
	}
	return b.String()
}

// interner numbers location texts so that a stack key is 4 bytes per
// location: deep stacks of large profiles would otherwise make keys of many
// kilobytes each. One interner serves both profiles, so equal content gets
// equal numbers.
type interner struct {
	ids   map[string]uint32
	texts []string
}

var frameIDs = interner{ids: map[string]uint32{}}

func (in *interner) id(s string) uint32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	id := uint32(len(in.texts))
	in.ids[s] = id
	in.texts = append(in.texts, s)
	return id
}

// stackKey is the leaf-first sequence of location numbers, length first.
func stackKey(locs []*profile.Location, cache map[*profile.Location]uint32) string {
	b := make([]byte, 4+4*len(locs))
	binary.LittleEndian.PutUint32(b, uint32(len(locs)))
	for i, l := range locs {
		id, ok := cache[l]
		if !ok {
			id = frameIDs.id(frameText(l))
			cache[l] = id
		}
		binary.LittleEndian.PutUint32(b[4+4*i:], id)
	}
	return string(b)
}

// describe turns a sample key back into text for a difference report.
func describe(key string) string {
	n := int(binary.LittleEndian.Uint32([]byte(key[:4])))
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, frameIDs.texts[binary.LittleEndian.Uint32([]byte(key[4+4*i:8+4*i]))])
	}
	return strings.Join(parts, " ; ") + " {" + key[4+4*n:] + "}"
}

// labels renders a label set as sorted "key=str" and "key=num unit" strings;
// repeated keys keep every value.
func labels(s *profile.Sample) string {
	var all []string
	for k, vs := range s.Label {
		for _, v := range vs {
			all = append(all, k+"="+v)
		}
	}
	for k, vs := range s.NumLabel {
		units := s.NumUnit[k]
		for i, v := range vs {
			u := ""
			if i < len(units) {
				u = units[i]
			}
			all = append(all, fmt.Sprintf("%s=%d %s", k, v, u))
		}
	}
	sort.Strings(all)
	return strings.Join(all, ",")
}

type typeKey struct{ typ, unit string }

// sums maps every (stack, labels) key to its summed value, per sample type.
func sums(p *profile.Profile) map[typeKey]map[string]int64 {
	out := make(map[typeKey]map[string]int64)
	keys := make([]string, len(p.Sample))
	cache := make(map[*profile.Location]uint32)
	for i, s := range p.Sample {
		keys[i] = stackKey(s.Location, cache) + labels(s)
	}
	for t, st := range p.SampleType {
		m := make(map[string]int64)
		for i, s := range p.Sample {
			m[keys[i]] += s.Value[t]
		}
		out[typeKey{st.Type, st.Unit}] = m
	}
	return out
}

func short(key string) string {
	key = describe(key)
	if len(key) > 300 {
		return key[:300] + "..."
	}
	return key
}

func compareSamples(a, b *profile.Profile) []string {
	var diffs []string
	sa, sb := sums(a), sums(b)
	for t, ma := range sa {
		mb, ok := sb[t]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("sample type %s/%s missing from the converted profile", t.typ, t.unit))
			continue
		}
		for k, va := range ma {
			if vb := mb[k]; va != vb {
				diffs = append(diffs, fmt.Sprintf("%s/%s: value %d != %d for %s", t.typ, t.unit, va, vb, short(k)))
			}
		}
		for k, vb := range mb {
			if _, ok := ma[k]; !ok && vb != 0 {
				diffs = append(diffs, fmt.Sprintf("%s/%s: unexpected value %d for %s", t.typ, t.unit, vb, short(k)))
			}
		}
	}
	for t := range sb {
		if _, ok := sa[t]; !ok {
			diffs = append(diffs, fmt.Sprintf("sample type %s/%s only in the converted profile", t.typ, t.unit))
		}
	}
	sort.Strings(diffs)
	return diffs
}

func typeList(p *profile.Profile) string {
	var s []string
	for _, st := range p.SampleType {
		s = append(s, st.Type+"/"+st.Unit)
	}
	return strings.Join(s, ",")
}

// defaultType applies pprof's rule: an empty default means the last type.
func defaultType(p *profile.Profile) string {
	if p.DefaultSampleType == "" && len(p.SampleType) > 0 {
		return p.SampleType[len(p.SampleType)-1].Type
	}
	return p.DefaultSampleType
}

// onlyReferencedMappings leaves out mappings that no location uses
// (`compare -referenced-mappings`), for converters that keep only those.
var onlyReferencedMappings bool

func mappingKeys(p *profile.Profile) []string {
	used := map[*profile.Mapping]bool{}
	for _, l := range p.Location {
		used[l.Mapping] = true
	}
	var out []string
	for _, m := range p.Mapping {
		if onlyReferencedMappings && !used[m] {
			continue
		}
		out = append(out, fmt.Sprintf("start=%#x limit=%#x offset=%#x file=%q build_id=%q fn=%v files=%v lines=%v inline=%v",
			m.Start, m.Limit, m.Offset, m.File, m.BuildID, m.HasFunctions, m.HasFilenames,
			m.HasLineNumbers, m.HasInlineFrames))
	}
	sort.Strings(out)
	return out
}

func compareHeader(a, b *profile.Profile) []string {
	var diffs []string
	eq := func(what string, x, y interface{}) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			diffs = append(diffs, fmt.Sprintf("%s: %v != %v", what, x, y))
		}
	}
	eq("sample type order", typeList(a), typeList(b))
	eq("period", a.Period, b.Period)
	eq("period type", fmt.Sprintf("%q/%q", a.PeriodType.Type, a.PeriodType.Unit),
		fmt.Sprintf("%q/%q", b.PeriodType.Type, b.PeriodType.Unit))
	eq("time_nanos", a.TimeNanos, b.TimeNanos)
	eq("duration_nanos", a.DurationNanos, b.DurationNanos)
	eq("default sample type", defaultType(a), defaultType(b))
	eq("comments", fmt.Sprintf("%q", a.Comments), fmt.Sprintf("%q", b.Comments))
	eq("drop_frames", fmt.Sprintf("%q", a.DropFrames), fmt.Sprintf("%q", b.DropFrames))
	eq("keep_frames", fmt.Sprintf("%q", a.KeepFrames), fmt.Sprintf("%q", b.KeepFrames))
	count := map[string]int{}
	for _, m := range mappingKeys(a) {
		count[m]++
	}
	for _, m := range mappingKeys(b) {
		count[m]--
	}
	var ms []string
	for m, n := range count {
		if n > 0 {
			ms = append(ms, fmt.Sprintf("mapping only in the original (%d): %s", n, m))
		} else if n < 0 {
			ms = append(ms, fmt.Sprintf("mapping only in the converted profile (%d): %s", -n, m))
		}
	}
	sort.Strings(ms)
	return append(diffs, ms...)
}

func compare(a, b *profile.Profile) []string {
	return append(compareHeader(a, b), compareSamples(a, b)...)
}
