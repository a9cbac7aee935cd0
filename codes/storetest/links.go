package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

func (cfg Config) openLinks(t *testing.T) codes.LinkStore {
	t.Helper()
	s := cfg.open(t)
	ls, ok := s.(codes.LinkStore)
	require.True(t, ok, "%T: one store of Config.Open is a codes.LinkStore, another is not", s)
	return ls
}

func link(phone, person codes.Key, role codes.Role, minute int) codes.Link {
	return codes.Link{Phone: phone, Person: person, Role: role, Since: at(minute)}
}

// requireLinks requires got to be want (nil and empty are both "none"),
// comparing Since as an instant.
func requireLinks(t *testing.T, want, got []codes.Link, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		w, g := want[i], got[i]
		require.True(t, w.Since.Equal(g.Since), "%s: link %d: Since %v, want %v", what, i, g.Since, w.Since)
		w.Since = g.Since
		require.Equal(t, w, g, "%s: link %d", what, i)
	}
}

func phonesOf(t *testing.T, ls codes.LinkStore, person codes.Key) []codes.Link {
	t.Helper()
	got, err := ls.PhonesOf(context.Background(), person)
	require.NoError(t, err)
	return got
}

func personsOf(t *testing.T, ls codes.LinkStore, phone codes.Key) []codes.Link {
	t.Helper()
	got, err := ls.PersonsOf(context.Background(), phone)
	require.NoError(t, err)
	return got
}

func sortedBy(links []codes.Link, by func(codes.Link) codes.Key) []codes.Link {
	out := slices.Clone(links)
	slices.SortFunc(out, func(a, b codes.Link) int {
		ka, kb := by(a), by(b)
		return bytes.Compare(ka[:], kb[:])
	})
	return out
}

func byPhone(l codes.Link) codes.Key  { return l.Phone }
func byPerson(l codes.Link) codes.Key { return l.Person }

// testLinks checks codes.LinkStore as codes.MemStore implements it.
func (cfg Config) testLinks(t *testing.T) {
	ctx := context.Background()
	t.Run("OrderedByKey", func(t *testing.T) {
		ls := cfg.openLinks(t)
		keys := randKeys(newRand(60), 10)
		phone, person := keys[0], keys[1]
		var ofPhone, ofPerson []codes.Link
		for i, k := range keys[2:6] { // a family registered through one phone
			l := link(phone, k, codes.RoleProxy, i)
			ofPhone = append(ofPhone, l)
			require.NoError(t, ls.Link(ctx, l))
		}
		owner := link(phone, person, codes.RoleOwner, 9)
		ofPhone = append(ofPhone, owner)
		require.NoError(t, ls.Link(ctx, owner))
		ofPerson = append(ofPerson, owner)
		for i, k := range keys[6:] { // one person's other phones
			l := link(k, person, codes.Role(1+i%2), 10+i)
			ofPerson = append(ofPerson, l)
			require.NoError(t, ls.Link(ctx, l))
		}
		requireLinks(t, sortedBy(ofPhone, byPerson), personsOf(t, ls, phone), "PersonsOf")
		requireLinks(t, sortedBy(ofPerson, byPhone), phonesOf(t, ls, person), "PhonesOf")
		for _, l := range ofPhone {
			if l.Person != person {
				requireLinks(t, []codes.Link{l}, phonesOf(t, ls, l.Person), "PhonesOf a proxied person")
			}
		}
	})
	t.Run("SecondOwnerRefused", func(t *testing.T) {
		ls := cfg.openLinks(t)
		keys := randKeys(newRand(61), 3)
		phone, a, b := keys[0], keys[1], keys[2]
		require.NoError(t, ls.Link(ctx, link(phone, a, codes.RoleOwner, 0)))
		require.ErrorIs(t, ls.Link(ctx, link(phone, b, codes.RoleOwner, 1)), codes.ErrPhoneOwned)
		requireLinks(t, []codes.Link{link(phone, a, codes.RoleOwner, 0)}, personsOf(t, ls, phone), "PersonsOf after the refusal")
		require.Empty(t, phonesOf(t, ls, b), "PhonesOf the refused owner")
		require.NoError(t, ls.Link(ctx, link(phone, a, codes.RoleOwner, 2)), "the same owner again")
		require.NoError(t, ls.Link(ctx, link(phone, b, codes.RoleProxy, 3)), "a proxy beside the owner")
		requireLinks(t, sortedBy([]codes.Link{link(phone, a, codes.RoleOwner, 2), link(phone, b, codes.RoleProxy, 3)}, byPerson),
			personsOf(t, ls, phone), "PersonsOf")
	})
	t.Run("RelinkUpdatesRole", func(t *testing.T) {
		ls := cfg.openLinks(t)
		keys := randKeys(newRand(62), 3)
		phone, a, b := keys[0], keys[1], keys[2]
		require.NoError(t, ls.Link(ctx, link(phone, a, codes.RoleOwner, 0)))
		require.NoError(t, ls.Link(ctx, link(phone, a, codes.RoleProxy, 1)))
		got := personsOf(t, ls, phone)
		require.Len(t, got, 1, "relinking a pair keeps one link")
		require.Equal(t, codes.RoleProxy, got[0].Role)
		got = phonesOf(t, ls, a)
		require.Len(t, got, 1)
		require.Equal(t, codes.RoleProxy, got[0].Role)
		require.NoError(t, ls.Link(ctx, link(phone, b, codes.RoleOwner, 2)), "the phone has no owner any more")
	})
	t.Run("Unlink", func(t *testing.T) {
		ls := cfg.openLinks(t)
		keys := randKeys(newRand(63), 4)
		phone, a, b, other := keys[0], keys[1], keys[2], keys[3]
		require.NoError(t, ls.Link(ctx, link(phone, a, codes.RoleOwner, 0)))
		require.NoError(t, ls.Link(ctx, link(phone, b, codes.RoleProxy, 0)))
		require.NoError(t, ls.Link(ctx, link(other, a, codes.RoleProxy, 0)))
		require.NoError(t, ls.Unlink(ctx, phone, a))
		requireLinks(t, []codes.Link{link(phone, b, codes.RoleProxy, 0)}, personsOf(t, ls, phone), "PersonsOf")
		requireLinks(t, []codes.Link{link(other, a, codes.RoleProxy, 0)}, phonesOf(t, ls, a), "PhonesOf")
		require.NoError(t, ls.Unlink(ctx, phone, a), "unlinking a missing pair")
		require.NoError(t, ls.Unlink(ctx, other, b), "unlinking a pair never linked")
		require.NoError(t, ls.Link(ctx, link(phone, b, codes.RoleOwner, 1)), "a new owner once the old one is unlinked")
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		ls := cfg.openLinks(t)
		keys := randKeys(newRand(64), 2)
		phone, person := keys[0], keys[1]
		for name, l := range map[string]codes.Link{
			"ZeroPhone":   link(codes.Key{}, person, codes.RoleOwner, 0),
			"ZeroPerson":  link(phone, codes.Key{}, codes.RoleOwner, 0),
			"ZeroRole":    link(phone, person, 0, 0),
			"UnknownRole": link(phone, person, codes.RoleProxy+1, 0),
		} {
			require.ErrorIs(t, ls.Link(ctx, l), codes.ErrBadLink, name)
		}
		require.Empty(t, personsOf(t, ls, phone))
		require.Empty(t, phonesOf(t, ls, person))
		require.Empty(t, personsOf(t, ls, codes.Key{}))
	})
	t.Run("NoneIsEmpty", func(t *testing.T) {
		ls := cfg.openLinks(t)
		k := randKey(newRand(65))
		require.Empty(t, personsOf(t, ls, k))
		require.Empty(t, phonesOf(t, ls, k))
	})
}
