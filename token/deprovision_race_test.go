package token_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

// beforeCreateStore runs a hook just before each CreateToken reaches the
// store: the window between a manager's user check and its store write.
type beforeCreateStore struct {
	*memstore.Store
	before func()
}

func (s *beforeCreateStore) CreateToken(ctx context.Context, t store.Token) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.CreateToken(ctx, t)
}

// TestS45DeprovisionDuringCreate: a user deprovisioned (deactivated in the
// directory, then Deprovision) while a token of theirs is being made gets
// no token that re-provisioning would revive.
func TestS45DeprovisionDuringCreate(t *testing.T) {
	tests := []struct {
		name string
		make func(ctx context.Context, m *token.Manager) (token.Secret, error)
	}{
		{"Create", func(ctx context.Context, m *token.Manager) (token.Secret, error) {
			sec, _, err := m.Create(ctx, token.CreateRequest{UserID: "u1", Name: "ci", Scopes: scope.MustParse("read:tasks")})
			return sec, err
		}},
		{"CreateSession", func(ctx context.Context, m *token.Manager) (token.Secret, error) {
			sec, _, err := m.CreateSession(ctx, "u1")
			return sec, err
		}},
		{"Rotate", func(ctx context.Context, m *token.Manager) (token.Secret, error) {
			l, err := m.List(ctx, "u1")
			if err != nil {
				return token.Secret{}, err
			}
			sec, _, err := m.Rotate(ctx, "u1", l[0].ID, time.Hour)
			return sec, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			u := store.User{ID: "u1", OrgID: "o1", Active: true, Permissions: adminOrg}
			mem := memstore.New()
			require.NoError(t, mem.PutUser(u))
			st := &beforeCreateStore{Store: mem}
			m, err := token.NewManager(token.Config{Store: st, Now: func() time.Time { return t0 }, Logger: discard})
			require.NoError(t, err)
			_, _, err = m.Create(ctx, token.CreateRequest{UserID: "u1", Name: "old", Scopes: scope.MustParse("read:tasks")})
			require.NoError(t, err)

			st.before = func() {
				require.NoError(t, mem.SetUserActive("u1", false))
				require.NoError(t, m.Deprovision(ctx, "u1"))
			}
			sec, err := tt.make(ctx, m)
			require.ErrorIs(t, err, token.ErrUser)
			assert.True(t, sec.IsZero())

			require.NoError(t, mem.PutUser(u)) // re-provisioned
			all, err := mem.ListTokens(ctx, "u1")
			require.NoError(t, err)
			for _, tok := range all {
				assert.True(t, tok.Revoked(), "%s token %s survived the deprovisioning", tok.Kind, tok.ID)
			}
		})
	}
}
