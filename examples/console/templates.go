package console

import (
	"fmt"
	"html/template"
)

// pageNames are the pages, each a templates/NAME.html defining "title" and
// "content" (and optionally "head") inside templates/base.html.
var pageNames = []string{"signin", "error", "person", "stats", "screen", "rules", "rules_confirm", "finder", "finder_task", "finder_push"}

var funcs = template.FuncMap{
	"colours": func() []string { return []string{"red", "yellow", "green"} },
	"short": func(h string) string {
		if len(h) > 12 {
			return h[:12]
		}
		return h
	},
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
