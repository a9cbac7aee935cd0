package console

// rulesLabels are the words of activating a rule set at a chosen time.
var rulesLabels = map[string]map[string]string{
	"zh": {},
	"en": {},
}
