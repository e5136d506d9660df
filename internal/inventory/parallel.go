package inventory

import (
	"context"
	"runtime"
	"sync"
)

// forEach calls fn(cs, i) for i in [0, n) on up to workers goroutines (every
// core when workers <= 0), each with compilers of its own; results go into
// slots by index, so the output order does not depend on scheduling.
func forEach(ctx context.Context, n, workers int, fn func(cs compilers, i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > n {
		workers = n
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := compilers{}
			for i := range next {
				fn(cs, i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}
