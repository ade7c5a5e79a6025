package httpapi

import "testing"

func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"a":1,"b":2}`:                     "",
		`{"a":1,"a":2}`:                     "a",
		`{"a":{"x":1},"b":{"x":2}}`:         "",
		`{"a":{"x":1,"x":2}}`:               "x",
		`{"a":[{"k":"v"},{"k":"v"}],"b":1}`: "",
		`{"a":["a","a"],"b":"b"}`:           "",
		`{"a":"b","b":"a"}`:                 "",
		`{"list":[1,{"z":1,"z":1}]}`:        "z",
		`{"n":null,"t":true,"n":false}`:     "n",
	} {
		if got := duplicateKey([]byte(body)); got != want {
			t.Errorf("duplicateKey(%s) = %q, want %q", body, got, want)
		}
	}
}
