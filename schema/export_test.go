package schema

// FastValid and ReferenceValid expose both validators to the tests that
// check they agree.
func FastValid(def string, v any) bool { return fastValid(def, v) }

func ReferenceValid(def string, v any) bool { return compiled()[def].Validate(v) == nil }
