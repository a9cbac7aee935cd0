package console

// statsLabels are the words of the venue statistics and the red/yellow users list.
var statsLabels = map[string]map[string]string{
	"zh": {},
	"en": {},
}
