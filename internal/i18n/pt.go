package i18n

// pt is the Brazilian Portuguese text of every message, keyed by its
// English text. Keep it sorted by area; the completeness test in the
// module's root lists what is missing or no longer used.
var pt = map[string]string{}
