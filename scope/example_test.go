package scope_test

import (
	"errors"
	"fmt"

	"tapioca.dev/auth/scope"
)

func ExampleParse() {
	s, err := scope.Parse("write:time read:tasks read:tasks")
	if err != nil {
		panic(err)
	}
	fmt.Println(s) // canonical order, each scope once

	_, err = scope.Parse("read:tasks Read:time")
	var unknown *scope.UnknownError
	fmt.Println(errors.Is(err, scope.ErrUnknownScope), errors.As(err, &unknown), unknown.Name)

	_, err = scope.Parse("read:tasks  write:time")
	fmt.Println(errors.Is(err, scope.ErrSyntax))
	// Output:
	// read:tasks write:time
	// true true Read:time
	// true
}

func ExampleSet_Satisfies() {
	token := scope.MustParse("write:tasks read:time")
	fmt.Println(token.Satisfies(scope.MustParse("read:tasks")))
	fmt.Println(token.Satisfies(scope.MustParse("read:tasks read:time")))
	fmt.Println(token.Satisfies(scope.MustParse("write:time")))
	fmt.Println(scope.MustParse("admin:org").Satisfies(scope.MustParse("admin:billing")))
	// Output:
	// true
	// true
	// false
	// false
}

func ExampleSet_Contains() {
	s := scope.MustParse("admin:org")
	fmt.Println(s.Contains(scope.ReadFinance), s.Contains(scope.AdminBilling), s.Contains("read:*"))
	// Output: true false false
}

func ExampleSet_Narrow() {
	requested := scope.MustParse("write:tasks read:finance admin:billing")
	clientAllowed := scope.MustParse("admin:org")
	userPermissions := scope.MustParse("read:tasks read:finance")

	granted := requested.Narrow(clientAllowed, userPermissions)
	fmt.Println(granted)
	fmt.Println(scope.MustParse("write:tasks").Narrow(scope.MustParse("read:tasks")))
	// Output:
	// read:tasks read:finance
	// read:tasks
}

func ExampleSet_Minimal() {
	s := scope.MustParse("admin:org read:tasks write:tasks admin:billing")
	fmt.Println(s.Minimal())
	fmt.Println(s.Minimal().Equivalent(s))
	// Output:
	// admin:org admin:billing
	// true
}

func ExampleSet_Closure() {
	fmt.Println(scope.MustParse("write:finance read:users").Closure())
	// Output: read:finance write:finance read:users
}

func ExampleNewRegistry() {
	docs, err := scope.NewRegistry(
		[]string{"docs:read", "docs:write", "docs:admin"},
		[]scope.Implication{
			{From: "docs:write", To: "docs:read"},
			{From: "docs:admin", To: "docs:write"},
		},
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(docs.Implies("docs:admin", "docs:read"))
	fmt.Println(docs.MustParse("docs:admin docs:read").Minimal())

	_, err = scope.NewRegistry([]string{"a", "b"}, []scope.Implication{{From: "a", To: "b"}, {From: "b", To: "a"}})
	fmt.Println(errors.Is(err, scope.ErrCycle))
	_, err = scope.NewRegistry([]string{"read tasks"}, nil)
	fmt.Println(errors.Is(err, scope.ErrBadName))
	// Output:
	// true
	// docs:admin
	// true
	// true
}
