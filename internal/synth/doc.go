// Package synth generates deterministic synthetic data for the tests and
// benchmarks of the healthcode SDK: people with valid identity documents,
// venues, venue scans, trips, registry records with known duplicates,
// health facts, risk areas, incidents and outages.
//
// Every generator draws from one math/rand/v2 PCG stream seeded by New; it
// never reads the clock, the global random source or map iteration order,
// so the same seed and the same sequence of calls give the same data on
// every run and platform. Times are inputs (Start fields, now arguments);
// local times use a fixed UTC+8 zone (CST) so no time zone database is
// needed.
//
// # Usage
//
//	g := synth.New(42)
//	people := g.People(1000)
//	venues := g.Venues(500)
//	scans := g.Scans(synth.ScanConfig{Persons: 1000, Venues: 500, Days: 7, PerDay: 5000})
//	recs, truth := g.Registry(synth.RegistryConfig{Records: 1e5, DupRate: 0.05, SuspiciousRate: 0.01, NoiseRate: 0.1})
//
// # People
//
// Person draws a sex (1:1), a document type and a county of residence from
// an embedded table of 266 real GB/T 2260 county-level codes across 18
// provinces (Regions, LookupRegion). Document types: 95 % 18-digit
// resident IDs, 3 % legacy 15-digit IDs (born before 2000; Upgrade15
// inserts "19" and appends the check digit), 0.7 % Hong Kong/Macao and
// 0.3 % Taiwan residence permits (region 810000/820000/830000, same layout
// and check digit as resident IDs), 0.5 % foreign permanent resident IDs
// and 0.5 % passports ("E" + 8 digits, ResidentID "").
//
// Resident IDs are region (6) + birth date YYYYMMDD (8) + sequence (3, odd
// for men, even for women) + the ISO 7064 MOD 11-2 check character
// (CheckDigit; 'X' stands for 10). Sequence numbers are allocated per
// (region, birth day, sex), so one Gen never issues an ID twice. Birth
// dates fall in 1930-2022 with decade shares shaped like China's 2020s
// population pyramid (most in the 1960s-1990s, about 18 % under 18 in
// 2022).
//
// Foreign permanent resident IDs follow the 2023 format of the National
// Immigration Administration: 18 characters, "9", the two-digit province
// code of the issuing office, a three-digit nationality code (ISO 3166-1
// numeric, e.g. 840), birth date YYYYMMDD, a three-digit sequence (odd for
// men) and the same MOD 11-2 check character. (The format is 9 + 2 + 3
// digits before the date, not 9 + 3 + 3: the total is 18.)
//
// Names: surnames weighted by published frequency (王, 李, 张 ... and a
// few compound ones such as 欧阳), one or two given-name characters from
// sex-typed lists. Ethnicity depends on the region (Uyghur and Kazakh in
// Xinjiang, Tibetan in Tibet and western Sichuan, Hui in Ningxia, Zhuang in
// Guangxi, Yi in Liangshan...; about 3 % minorities elsewhere); Uyghur and
// Kazakh names use the middle dot (阿依古丽·买买提), Tibetan names have no
// surname (扎西顿珠), foreign names are transliterated (约翰·史密斯).
// Phones are 11-digit mobile numbers on prefixes of China Mobile, Unicom,
// Telecom and Broadnet that libphonenumber accepts as CN mobile; 3 % of
// people have none. Phones are not unique, as in real data.
//
// # Venues and scans
//
// Venues(n) names places by composing city, county, road, landmark or
// street number, optional brand and business type
// ("成都市锦江区春熙路太古里星巴克咖啡"), so partial names match many
// venues. Popularity is Zipf: the venue of rank r (0 = most popular) is
// r*step mod n for a fixed step coprime to n, and has weight
// (r+1)^-s / H(n,s). Venue.Weight is that probability for s = DefaultZipfS.
//
// Scans produces exactly PerDay scans per day in time order. Times of day
// follow DayRhythm (quiet nights; peaks at 08:15, 12:15 and 18:30),
// venues the Zipf law above with exponent ZipfS, people uniform or Zipf
// with PersonSkew. Each day's times are drawn as counts per second, so no
// sort is needed; person, venue and second are drawn with O(1) alias tables
// from one 64-bit random number each. ScanSeq yields the same stream with
// constant memory. On one core of the 2-core development machine 10 M
// scans over 100 000 venues take about 0.7 s (0.25 s streamed; most of the
// difference is faulting in the 160 MB result), 2.5 s over 5.2 M venues.
//
// # Trips
//
// Trips draws flights (rows 1-40, seats A-F), high-speed "sealed" trains
// (cars 1-16, rows 1-20, seats A B C D F as in CRH second class),
// conventional "unsealed" trains (cars 1-18, compartments 1-11, berths
// A-F) and coaches (rows 1-13, seats A-D), with 2 to MaxPassengers
// distinct passengers on distinct seats per trip.
//
// # Registry
//
// Registry and RegistrySeq produce population-registry rows as a CSV export
// carries them, with exact duplicates (same name, document, birth date and
// ethnicity after normalisation) and suspicious near-duplicates (same
// document, one of name, birth date or ethnicity different: a look-alike
// character, a shifted or swapped date, another ethnicity) at the requested
// rates, and formatting noise that normalisation removes (full-width
// characters, lower-case x, the 15-digit form, stray spaces including
// U+3000, dates as 19900102 or 1990/1/2). Normalise a row by removing
// whitespace, folding full-width ASCII, upper-casing the document number,
// upgrading 15-digit resident IDs, and parsing the three date layouts.
// RegistryTruth lists the duplicate groups and the suspicious groups (all
// records sharing a document number when they are not all duplicates).
// Registered times grow along the stream; about 10 % of copies repeat their
// original's timestamps exactly, so "keep the latest" needs a tie-break.
// One million records take about 4 s, a third of it garbage collection of
// the result; RegistrySeq streams with memory bounded by the pending
// copies (at most 200 000 positions ahead).
//
// # Health, risk areas, incidents, outages
//
// Health(now) returns test results, travel, contact status, vaccination,
// arrival registration and manual flags with a mix under which a 2022-style
// policy leaves 85-90 % of people green (the shares are on Health).
// RiskAreas picks distinct regions with levels. Incidents draws opened ->
// responded -> (paused -> resumed) -> resolved (-> reopened -> responded ->
// resolved) sequences with lognormal delays that grow with the level;
// Outages draws non-overlapping planned (night), vendor and non-vendor
// outages.
//
// # Concurrency
//
// A Gen is not safe for concurrent use; give each goroutine its own Gen.
// Package functions (CheckDigit, ValidID, Upgrade15, Downgrade18, Regions,
// LookupRegion, DayRhythm, DocTypeLabel) are safe for concurrent use. The
// generated values share no memory with the generator.
//
// The package is internal: tests and benchmarks of the SDK packages and the
// reference servers under examples/ (examples/healthcoded) use it to
// produce fixtures; it is not part of the public API.
package synth
