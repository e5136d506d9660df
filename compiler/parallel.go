package compiler

import (
	"context"
	"runtime"
	"sync"
)

// window is how many stacks per worker CompileParallel lets be compiled ahead
// of the oldest one not yet collected: it bounds the memory held for stacks
// waiting their turn while keeping every worker busy.
const window = 4

// CompileParallel is Compile on up to workers goroutines (GOMAXPROCS when
// workers <= 0), each compiling whole stacks: stacks are independent. c
// compiles on one of them; each other worker compiles with a compiler of its
// own over the same catalog, since CUE evaluation under one Compiler is
// serialised. Results are collected in input order while later stacks
// compile, so Result and Diagnostics are exactly what c.Compile(ctx, in)
// returns, whatever the number of workers. With one stack, or one worker, it
// is c.Compile.
func (c *Compiler) CompileParallel(ctx context.Context, in Input, workers int) (*Result, Diagnostics) {
	col := newCollector(nil)
	c.compileParallel(ctx, in, workers, col)
	return col.res, col.all
}

// CompileEach is CompileParallel handing the stacks to emit instead of holding
// them in Result.Stacks, which stays empty: a caller that writes each stack as
// it comes holds one at a time, not all. emit is called on the calling
// goroutine, in input order, with each stack that compiled without errors, as
// soon as it and every stack before it are compiled; clean reports whether no
// diagnostic so far (of this stack or an earlier one) is an error, that is
// whether the stacks emitted so far would all be written. Diagnostics and
// Result.Costs are CompileParallel's.
func (c *Compiler) CompileEach(ctx context.Context, in Input, workers int, emit func(st *Stack, clean bool)) (*Result, Diagnostics) {
	col := newCollector(emit)
	c.compileParallel(ctx, in, workers, col)
	return col.res, col.all
}

func (c *Compiler) compileParallel(ctx context.Context, in Input, workers int, col *collector) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := len(in.Stacks)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		c.compileSeq(ctx, in, col)
		return
	}
	in.Now = in.now()

	// slots[i] receives stack i's compile; tokens bounds how far the
	// workers run ahead of the collector.
	slots := make([]chan compiled, n)
	for i := range slots {
		slots[i] = make(chan compiled, 1)
	}
	tokens := make(chan struct{}, window*workers)
	next := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	work := func(wc *Compiler) {
		defer wg.Done()
		wc.mu.Lock()
		defer wc.mu.Unlock()
		for i := range next {
			slots[i] <- wc.compileOne(ctx, in, in.Stacks[i])
		}
	}
	wg.Add(workers)
	go work(c)
	for w := 1; w < workers; w++ {
		go func() {
			// A second compiler over a catalog the first one loaded; should
			// it fail all the same, the other workers take its share.
			wc, err := New(c.fsys)
			if err != nil {
				wg.Done()
				return
			}
			work(wc)
		}()
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case tokens <- struct{}{}:
			case <-done:
				return
			}
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	}()

	for i := range n {
		x := <-slots[i]
		<-tokens
		if !col.add(x) {
			break
		}
	}
	close(done)
	wg.Wait()
}
