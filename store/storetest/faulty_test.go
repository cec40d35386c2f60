package storetest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
)

var errDisk = errors.New("disk on fire")

func newFaulty(t *testing.T) (*storetest.Faulty, store.Token) {
	t.Helper()
	ms := memstore.New()
	tok := store.Token{ID: "t1", Hash: store.Hash{1}, Kind: store.KindAPI, UserID: "u1",
		ExpiresAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, ms.CreateToken(t.Context(), tok))
	require.NoError(t, ms.PutUser(store.User{ID: "u1", OrgID: "o1", Active: true}))
	return storetest.NewFaulty(ms), tok
}

func TestFaultyPassesThrough(t *testing.T) {
	fs, tok := newFaulty(t)
	got, err := fs.TokenByHash(t.Context(), tok.Hash)
	require.NoError(t, err)
	assert.Equal(t, "t1", got.ID)
	assert.Equal(t, 1, fs.Calls("TokenByHash"))
	assert.Equal(t, 1, fs.Calls(storetest.AllMethods))
	assert.Equal(t, 0, fs.Calls("User"))
}

func TestFaultyFail(t *testing.T) {
	fs, tok := newFaulty(t)
	fs.Fail("TokenByHash", errDisk)
	_, err := fs.TokenByHash(t.Context(), tok.Hash)
	require.ErrorIs(t, err, errDisk)
	_, err = fs.User(t.Context(), "u1")
	require.NoError(t, err, "only the chosen method fails")

	fs.Fail(storetest.AllMethods, nil)
	_, err = fs.User(t.Context(), "u1")
	require.ErrorIs(t, err, storetest.ErrInjected)
	require.ErrorIs(t, fs.RevokeUser(t.Context(), "u1", time.Time{}), storetest.ErrInjected)
	_, err = fs.TokenByHash(t.Context(), tok.Hash)
	require.ErrorIs(t, err, errDisk, "a per-method fault takes precedence over AllMethods")
	assert.False(t, errors.Is(storetest.ErrInjected, store.ErrNotFound))

	fs.Heal("TokenByHash")
	_, err = fs.TokenByHash(t.Context(), tok.Hash)
	require.ErrorIs(t, err, storetest.ErrInjected, "AllMethods still applies")
	fs.Heal(storetest.AllMethods)
	_, err = fs.TokenByHash(t.Context(), tok.Hash)
	require.NoError(t, err)
	assert.Equal(t, 4, fs.Calls("TokenByHash"), "faulty calls are counted")
}

func TestFaultyHang(t *testing.T) {
	fs, tok := newFaulty(t)
	fs.Hang("TokenByHash")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := fs.TokenByHash(ctx, tok.Hash)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Hang returned before the context ended: %v", err)
	default:
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestFaultyZero(t *testing.T) {
	fs, tok := newFaulty(t)
	fs.Zero(storetest.AllMethods)
	got, err := fs.TokenByHash(t.Context(), tok.Hash)
	require.NoError(t, err)
	assert.Equal(t, store.Token{}, got)
	u, err := fs.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.Equal(t, store.User{}, u)
	list, err := fs.ListTokens(t.Context(), "u1")
	require.NoError(t, err)
	assert.Empty(t, list)
	require.NoError(t, fs.RevokeToken(t.Context(), tok.ID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))

	fs.Heal(storetest.AllMethods)
	got, err = fs.TokenByHash(t.Context(), tok.Hash)
	require.NoError(t, err)
	assert.False(t, got.Revoked(), "a zeroed write never reaches the inner store")
}

func TestFaultyPanic(t *testing.T) {
	fs, tok := newFaulty(t)
	fs.Panic("TokenByHash")
	assert.PanicsWithValue(t, "storetest: injected panic in TokenByHash", func() {
		_, _ = fs.TokenByHash(t.Context(), tok.Hash)
	})
}

func TestFaultyUnknownMethod(t *testing.T) {
	fs, _ := newFaulty(t)
	assert.Panics(t, func() { fs.Fail("TokenByHsh", nil) })
	assert.Panics(t, func() { fs.Calls("Nope") })
}

func TestFaultyMethodsComplete(t *testing.T) {
	// Every method of store.Store is interceptable: calling each one on a
	// store failing everything yields ErrInjected and counts one call.
	fs, _ := newFaulty(t)
	fs.Fail(storetest.AllMethods, nil)
	ctx, at := t.Context(), time.Time{}
	var h store.Hash
	calls := map[string]func() error{
		"CreateToken":  func() error { return fs.CreateToken(ctx, store.Token{}) },
		"TokenByHash":  func() error { _, err := fs.TokenByHash(ctx, h); return err },
		"ListTokens":   func() error { _, err := fs.ListTokens(ctx, "u"); return err },
		"RevokeToken":  func() error { return fs.RevokeToken(ctx, "t", at) },
		"ExpireToken":  func() error { return fs.ExpireToken(ctx, "t", at) },
		"TouchToken":   func() error { return fs.TouchToken(ctx, "t", at) },
		"SaveCode":     func() error { return fs.SaveCode(ctx, store.Code{}) },
		"ConsumeCode":  func() error { _, err := fs.ConsumeCode(ctx, h, at); return err },
		"CreateFamily": func() error { return fs.CreateFamily(ctx, store.Family{}) },
		"RotateFamily": func() error { _, err := fs.RotateFamily(ctx, "f", h, h, at); return err },
		"RevokeFamily": func() error { return fs.RevokeFamily(ctx, "f", at) },
		"Client":       func() error { _, err := fs.Client(ctx, "c"); return err },
		"User":         func() error { _, err := fs.User(ctx, "u"); return err },
		"RevokeUser":   func() error { return fs.RevokeUser(ctx, "u", at) },
	}
	require.Len(t, storetest.Methods, len(calls))
	for _, m := range storetest.Methods {
		call, ok := calls[m]
		require.True(t, ok, m)
		require.ErrorIs(t, call(), storetest.ErrInjected, m)
		assert.Equal(t, 1, fs.Calls(m), m)
	}
	fs.ResetCalls()
	assert.Zero(t, fs.Calls(storetest.AllMethods))
}

func TestFaultyConcurrent(t *testing.T) {
	// Faults can be set while other goroutines call the store (-race).
	fs, tok := newFaulty(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				_, err := fs.TokenByHash(t.Context(), tok.Hash)
				if err != nil && !errors.Is(err, storetest.ErrInjected) {
					t.Errorf("unexpected error %v", err)
				}
			}
		})
	}
	for range 100 {
		fs.Fail("TokenByHash", nil)
		fs.Heal(storetest.AllMethods)
	}
	wg.Wait()
	assert.Equal(t, 800, fs.Calls("TokenByHash"))
}
