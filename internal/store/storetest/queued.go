package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kith/internal/store"
)

// AheadOfQueuedWrites checks that read, which reads and writes its audit
// entry, is served before the write transactions waiting for SQLite's one
// writer. It holds the writer with a transaction, queues three more behind
// it, then calls read and releases the writer. Each queued write waits for
// read to return and gives up after five seconds, which fails t: read cannot
// return first if its write waits behind them in the queue or is committed
// in their group.
func AheadOfQueuedWrites(t testing.TB, db *store.DB, read func() error) {
	t.Helper()
	ctx := context.Background()
	holding, release, returned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- db.Transact(ctx, func(*store.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Transact(ctx, func(*store.Tx) error {
				select {
				case <-returned:
					return nil
				case <-time.After(5 * time.Second):
					return errors.New("the read waited behind a queued write")
				}
			})
		}()
	}
	time.Sleep(100 * time.Millisecond) // the writes are queued
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := read()
		close(returned)
		errs <- err
	}()
	time.Sleep(100 * time.Millisecond) // the read's write is queued
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
