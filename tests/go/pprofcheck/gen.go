package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand"
	"os"

	"github.com/google/pprof/profile"
)

var typeNames = []string{"samples", "cpu", "alloc_objects", "alloc_space", "inuse_space", "wall",
	"contentions", "delay", "exception", "lock-time"}
var unitNames = []string{"count", "bytes", "nanoseconds", "microseconds", "objects", ""}

// gen builds one random profile; every random choice comes from r so a seed
// reproduces a document exactly.
type gen struct {
	r *rand.Rand
	p *profile.Profile
}

func (g *gen) pick(list []string) string { return list[g.r.Intn(len(list))] }
func (g *gen) chance(pct int) bool       { return g.r.Intn(100) < pct }

func (g *gen) sampleTypes() {
	n := 1 + g.r.Intn(6)
	for _, i := range g.r.Perm(len(typeNames))[:n] {
		g.p.SampleType = append(g.p.SampleType, &profile.ValueType{Type: typeNames[i], Unit: g.pick(unitNames)})
	}
	if g.chance(40) {
		g.p.DefaultSampleType = g.p.SampleType[g.r.Intn(n)].Type
	}
}

func (g *gen) mappings() {
	start := uint64(0x400000)
	for i := 0; i < g.r.Intn(4); i++ {
		size := uint64(0x1000 * (1 + g.r.Intn(64)))
		m := &profile.Mapping{ID: uint64(i + 1), Start: start, Limit: start + size,
			Offset: uint64(g.r.Intn(4)) * 0x1000, File: fmt.Sprintf("/usr/lib/lib%d.so", i),
			HasFunctions: g.chance(50), HasFilenames: g.chance(50), HasLineNumbers: g.chance(50),
			HasInlineFrames: g.chance(50)}
		if g.chance(70) {
			m.BuildID = fmt.Sprintf("%016x%08x", g.r.Uint64(), g.r.Uint32())
		}
		if g.chance(10) {
			m.File = ""
		}
		g.p.Mapping = append(g.p.Mapping, m)
		start += size + 0x10000
	}
}

func (g *gen) functionsAndLocations() {
	nf := 1 + g.r.Intn(30)
	for i := 0; i < nf; i++ {
		f := &profile.Function{ID: uint64(i + 1), Name: fmt.Sprintf("pkg.fn%d", i),
			Filename: fmt.Sprintf("src/file%d.go", g.r.Intn(8)), StartLine: int64(g.r.Intn(500))}
		if g.chance(60) {
			f.SystemName = fmt.Sprintf("_Z3fn%dv", i)
		}
		if g.chance(5) {
			f.Name = ""
		}
		g.p.Function = append(g.p.Function, f)
	}
	nl := 1 + g.r.Intn(50)
	for i := 0; i < nl; i++ {
		l := &profile.Location{ID: uint64(i + 1), IsFolded: g.chance(10)}
		if len(g.p.Mapping) > 0 && g.chance(75) {
			m := g.p.Mapping[g.r.Intn(len(g.p.Mapping))]
			l.Mapping = m
			l.Address = m.Start + uint64(g.r.Int63n(int64(m.Limit-m.Start)))
		} else if g.chance(50) {
			l.Address = uint64(g.r.Int63())
		}
		for j := 0; j < 1+g.r.Intn(3); j++ {
			l.Line = append(l.Line, profile.Line{Function: g.p.Function[g.r.Intn(nf)], Line: int64(g.r.Intn(2000))})
		}
		g.p.Location = append(g.p.Location, l)
	}
}

var strKeys = []string{"thread", "span_name", "workload", "k"}
var strVals = []string{"main", "worker-1", "worker-2", "GC", "ünïcödé", "a=b,c"}
var numKeys = []string{"bytes", "request_size", "tid", "n"}
var numUnits = []string{"bytes", "count", "", "nanoseconds"}

func (g *gen) labels(s *profile.Sample) {
	for i := 0; i < g.r.Intn(3); i++ {
		k := g.pick(strKeys)
		if s.Label == nil {
			s.Label = map[string][]string{}
		}
		s.Label[k] = append(s.Label[k], g.pick(strVals))
	}
	for i := 0; i < g.r.Intn(3); i++ {
		// one unit per key, so a key repeated on a sample keeps its unit
		ki := g.r.Intn(len(numKeys))
		k := numKeys[ki]
		if s.NumLabel == nil {
			s.NumLabel, s.NumUnit = map[string][]int64{}, map[string][]string{}
		}
		v := g.r.Int63n(1 << 40)
		if g.chance(10) {
			v = -v
		}
		s.NumLabel[k] = append(s.NumLabel[k], v)
		s.NumUnit[k] = append(s.NumUnit[k], numUnits[ki])
	}
}

func (g *gen) samples() {
	n := 1 + g.r.Intn(200)
	for len(g.p.Sample) < n {
		s := &profile.Sample{}
		for d := g.r.Intn(12); d > 0; d-- {
			s.Location = append(s.Location, g.p.Location[g.r.Intn(len(g.p.Location))])
		}
		for range g.p.SampleType {
			var v int64
			switch {
			case g.chance(10):
				v = 0
			case g.chance(5):
				v = -g.r.Int63n(1 << 30)
			default:
				v = g.r.Int63n(1 << uint(1+g.r.Intn(40)))
			}
			s.Value = append(s.Value, v)
		}
		g.labels(s)
		g.p.Sample = append(g.p.Sample, s)
		if g.chance(10) && len(g.p.Sample) < n { // an exact duplicate, which readers must merge
			dup := *s
			g.p.Sample = append(g.p.Sample, &dup)
		}
	}
}

func (g *gen) header() {
	g.p.PeriodType = &profile.ValueType{Type: g.pick(typeNames), Unit: g.pick(unitNames)}
	g.p.Period = g.r.Int63n(100000000)
	g.p.TimeNanos = 1700000000000000000 + g.r.Int63n(1e18)
	if g.chance(20) {
		g.p.TimeNanos = 0
	}
	g.p.DurationNanos = g.r.Int63n(60e9)
	for i := 0; i < g.r.Intn(4); i++ {
		g.p.Comments = append(g.p.Comments, fmt.Sprintf("comment %d: %d", i, g.r.Intn(100)))
	}
	if g.chance(30) {
		g.p.DropFrames = "runtime\\..*"
	}
	if g.chance(30) {
		g.p.KeepFrames = "main\\..*"
	}
}

func generate(seed int64, out string) error {
	g := &gen{r: rand.New(rand.NewSource(seed)), p: &profile.Profile{}}
	g.sampleTypes()
	g.mappings()
	g.functionsAndLocations()
	g.samples()
	g.header()
	if err := g.p.CheckValid(); err != nil {
		return fmt.Errorf("generated profile is invalid: %v", err)
	}
	var raw bytes.Buffer
	if err := g.p.WriteUncompressed(&raw); err != nil {
		return err
	}
	data := raw.Bytes()
	if g.chance(40) {
		var err error
		if data, err = appendDocURL(data, fmt.Sprintf("https://example.com/docs/%d", seed)); err != nil {
			return err
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	if _, err := profile.ParseData(gz.Bytes()); err != nil {
		return fmt.Errorf("generated profile does not parse back: %v", err)
	}
	return os.WriteFile(out, gz.Bytes(), 0o644)
}
