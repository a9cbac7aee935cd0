package console

// finderLabels are the words of the finder's saved tasks, co-travel and push for coding.
var finderLabels = map[string]map[string]string{
	"zh": {},
	"en": {},
}
