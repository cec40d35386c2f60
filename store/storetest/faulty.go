package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"tapioca.dev/auth/store"
)

// ErrInjected is the error a [Faulty] store returns from a method set to
// [Faulty.Fail] with a nil error. It matches no sentinel of package store,
// so the library must treat it as a system failure.
var ErrInjected = errors.New("storetest: injected store failure")

// AllMethods names every method of [store.Store] at once in the setters of
// [Faulty]: Fail(AllMethods, err) breaks the whole store.
const AllMethods = "*"

// Methods lists the names of the [store.Store] methods that a [Faulty]
// store intercepts, in the order of the interface.
var Methods = []string{
	"CreateToken", "TokenByHash", "ListTokens", "RevokeToken", "ExpireToken", "TouchToken",
	"SaveCode", "ConsumeCode",
	"CreateFamily", "RotateFamily", "RevokeFamily",
	"Client",
	"User",
	"RevokeUser",
}

// fault is what a Faulty method does instead of calling through.
type fault struct {
	mode mode
	err  error
}

type mode uint8

const (
	modePass  mode = iota // call the inner store
	modeFail              // return err
	modeHang              // block until ctx is done, return ctx.Err()
	modeZero              // return zero values and a nil error
	modePanic             // panic
)

// Faulty wraps a [store.Store] and makes chosen methods misbehave, for
// tests that prove the library fails closed (SECURITY.md S46–S48). It also
// counts the calls of every method, so a test can assert that a request
// never reached the store (S3).
//
// A method name is one of [Methods] ("TokenByHash", "RotateFamily", …) or
// [AllMethods]. A fault set for one method takes precedence over one set
// for all; [Faulty.Heal] clears it. Each setter replaces the method's
// previous fault. The setters panic on an unknown method name, so a typo
// cannot make a test pass.
//
// The faults:
//   - [Faulty.Fail]: return an error (and zero values);
//   - [Faulty.Hang]: block until the call's context is done, then return
//     ctx.Err() — give the context a deadline or the call never returns;
//   - [Faulty.Zero]: return zero values and a nil error without calling the
//     inner store — a zero [store.Token], [store.Client], [store.User],
//     [store.Code] or [store.Family], a nil slice; methods that return only
//     an error report success and do nothing;
//   - [Faulty.Panic]: panic with a value naming the method (never a secret).
//
// Faulty implements exactly [store.Store]: the optional capabilities
// ([store.Sweeper], [store.ClientLister], [store.TokenUsers]) are absent even when the inner
// store has them. All methods are safe for concurrent use, and faults may
// be set and cleared while other goroutines call the store.
//
// The zero Faulty is not usable; create one with [NewFaulty].
type Faulty struct {
	inner store.Store

	mu     sync.RWMutex
	faults map[string]fault // method name or AllMethods → fault
	calls  map[string]*atomic.Int64
}

var _ store.Store = (*Faulty)(nil)

// NewFaulty returns a Faulty that passes every call to inner until told
// otherwise.
func NewFaulty(inner store.Store) *Faulty {
	f := &Faulty{
		inner:  inner,
		faults: make(map[string]fault),
		calls:  make(map[string]*atomic.Int64, len(Methods)),
	}
	for _, m := range Methods {
		f.calls[m] = new(atomic.Int64)
	}
	return f
}

// Inner returns the wrapped store, for setting up fixtures or checking
// state behind the faults.
func (f *Faulty) Inner() store.Store { return f.inner }

// Fail makes method return err, or [ErrInjected] when err is nil.
func (f *Faulty) Fail(method string, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.set(method, fault{mode: modeFail, err: err})
}

// Hang makes method block until the call's context is done and then return
// ctx.Err().
func (f *Faulty) Hang(method string) { f.set(method, fault{mode: modeHang}) }

// Zero makes method return zero values and a nil error without calling the
// inner store.
func (f *Faulty) Zero(method string) { f.set(method, fault{mode: modeZero}) }

// Panic makes method panic.
func (f *Faulty) Panic(method string) { f.set(method, fault{mode: modePanic}) }

// Heal removes the fault set for method; Heal(AllMethods) removes every
// fault, the per-method ones included.
func (f *Faulty) Heal(method string) {
	checkMethod(method)
	f.mu.Lock()
	defer f.mu.Unlock()
	if method == AllMethods {
		clear(f.faults)
		return
	}
	delete(f.faults, method)
}

// Calls returns how many times method was called, faulty calls included;
// Calls(AllMethods) returns the total over every method.
func (f *Faulty) Calls(method string) int {
	checkMethod(method)
	if method != AllMethods {
		return int(f.calls[method].Load())
	}
	n := 0
	for _, c := range f.calls {
		n += int(c.Load())
	}
	return n
}

// ResetCalls sets every call counter to zero.
func (f *Faulty) ResetCalls() {
	for _, c := range f.calls {
		c.Store(0)
	}
}

func (f *Faulty) set(method string, ft fault) {
	checkMethod(method)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = ft
}

func checkMethod(method string) {
	if method != AllMethods && !slices.Contains(Methods, method) {
		panic(fmt.Sprintf("storetest: Faulty has no method %q", method))
	}
}

// enter counts a call of method and returns its fault.
func (f *Faulty) enter(method string) fault {
	f.calls[method].Add(1)
	f.mu.RLock()
	defer f.mu.RUnlock()
	if ft, ok := f.faults[method]; ok {
		return ft
	}
	return f.faults[AllMethods]
}

// misbehave applies a fault other than modePass: it returns the error to
// report (nil for modeZero), blocks or panics.
func misbehave(ctx context.Context, method string, ft fault) error {
	switch ft.mode {
	case modeFail:
		return ft.err
	case modeHang:
		<-ctx.Done()
		return ctx.Err()
	case modePanic:
		panic("storetest: injected panic in " + method)
	}
	return nil
}

// CreateToken implements [store.Tokens].
func (f *Faulty) CreateToken(ctx context.Context, t store.Token) error {
	if ft := f.enter("CreateToken"); ft.mode != modePass {
		return misbehave(ctx, "CreateToken", ft)
	}
	return f.inner.CreateToken(ctx, t)
}

// TokenByHash implements [store.Tokens].
func (f *Faulty) TokenByHash(ctx context.Context, h store.Hash) (store.Token, error) {
	if ft := f.enter("TokenByHash"); ft.mode != modePass {
		return store.Token{}, misbehave(ctx, "TokenByHash", ft)
	}
	return f.inner.TokenByHash(ctx, h)
}

// ListTokens implements [store.Tokens].
func (f *Faulty) ListTokens(ctx context.Context, userID string) ([]store.Token, error) {
	if ft := f.enter("ListTokens"); ft.mode != modePass {
		return nil, misbehave(ctx, "ListTokens", ft)
	}
	return f.inner.ListTokens(ctx, userID)
}

// RevokeToken implements [store.Tokens].
func (f *Faulty) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if ft := f.enter("RevokeToken"); ft.mode != modePass {
		return misbehave(ctx, "RevokeToken", ft)
	}
	return f.inner.RevokeToken(ctx, id, at)
}

// ExpireToken implements [store.Tokens].
func (f *Faulty) ExpireToken(ctx context.Context, id string, at time.Time) error {
	if ft := f.enter("ExpireToken"); ft.mode != modePass {
		return misbehave(ctx, "ExpireToken", ft)
	}
	return f.inner.ExpireToken(ctx, id, at)
}

// TouchToken implements [store.Tokens].
func (f *Faulty) TouchToken(ctx context.Context, id string, at time.Time) error {
	if ft := f.enter("TouchToken"); ft.mode != modePass {
		return misbehave(ctx, "TouchToken", ft)
	}
	return f.inner.TouchToken(ctx, id, at)
}

// SaveCode implements [store.Codes].
func (f *Faulty) SaveCode(ctx context.Context, c store.Code) error {
	if ft := f.enter("SaveCode"); ft.mode != modePass {
		return misbehave(ctx, "SaveCode", ft)
	}
	return f.inner.SaveCode(ctx, c)
}

// ConsumeCode implements [store.Codes].
func (f *Faulty) ConsumeCode(ctx context.Context, h store.Hash, at time.Time) (store.Code, error) {
	if ft := f.enter("ConsumeCode"); ft.mode != modePass {
		return store.Code{}, misbehave(ctx, "ConsumeCode", ft)
	}
	return f.inner.ConsumeCode(ctx, h, at)
}

// CreateFamily implements [store.Families].
func (f *Faulty) CreateFamily(ctx context.Context, fam store.Family) error {
	if ft := f.enter("CreateFamily"); ft.mode != modePass {
		return misbehave(ctx, "CreateFamily", ft)
	}
	return f.inner.CreateFamily(ctx, fam)
}

// RotateFamily implements [store.Families].
func (f *Faulty) RotateFamily(ctx context.Context, id string, presented, next store.Hash, at time.Time) (store.Family, error) {
	if ft := f.enter("RotateFamily"); ft.mode != modePass {
		return store.Family{}, misbehave(ctx, "RotateFamily", ft)
	}
	return f.inner.RotateFamily(ctx, id, presented, next, at)
}

// RevokeFamily implements [store.Families].
func (f *Faulty) RevokeFamily(ctx context.Context, id string, at time.Time) error {
	if ft := f.enter("RevokeFamily"); ft.mode != modePass {
		return misbehave(ctx, "RevokeFamily", ft)
	}
	return f.inner.RevokeFamily(ctx, id, at)
}

// Client implements [store.Clients].
func (f *Faulty) Client(ctx context.Context, id string) (store.Client, error) {
	if ft := f.enter("Client"); ft.mode != modePass {
		return store.Client{}, misbehave(ctx, "Client", ft)
	}
	return f.inner.Client(ctx, id)
}

// User implements [store.Users].
func (f *Faulty) User(ctx context.Context, id string) (store.User, error) {
	if ft := f.enter("User"); ft.mode != modePass {
		return store.User{}, misbehave(ctx, "User", ft)
	}
	return f.inner.User(ctx, id)
}

// RevokeUser implements [store.Deprovisioner].
func (f *Faulty) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	if ft := f.enter("RevokeUser"); ft.mode != modePass {
		return misbehave(ctx, "RevokeUser", ft)
	}
	return f.inner.RevokeUser(ctx, userID, at)
}
