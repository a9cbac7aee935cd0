package console

// rulesLabels are the words of activating a rule set at a chosen time.
var rulesLabels = map[string]map[string]string{
	"zh": {
		"effective_at":     "生效时间（北京时间，可选）",
		"bad_effective_at": "生效时间无效，应为 年-月-日 时:分",
		"takes_effect_at":  "生效时间（北京时间）",
		"at_once":          "该时间已过，确认后立即生效",
		"done_schedule":    "已排期，%s 生效",
	},
	"en": {
		"effective_at":     "Effective at (Beijing time, optional)",
		"bad_effective_at": "Invalid time: want year-month-day hour:minute",
		"takes_effect_at":  "Takes effect at (Beijing time)",
		"at_once":          "That time has passed: the set takes effect at once",
		"done_schedule":    "Scheduled to take effect at %s",
	},
}
