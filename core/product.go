package core

// ProductLine is one of gellhub's product lines. Plans, subscriptions and
// API keys each belong to exactly one.
type ProductLine string

// The product lines.
const (
	LineClientGallery ProductLine = "clientGallery"
	LineDrive         ProductLine = "drive"
	LineMessaging     ProductLine = "messaging"
)

// ProductLines lists every line, in display order.
var ProductLines = []ProductLine{LineClientGallery, LineDrive, LineMessaging}

// ParseProductLine validates a product line named in input; field is the
// input's field name for the error.
func ParseProductLine(field, s string) (ProductLine, error) {
	switch ProductLine(s) {
	case LineClientGallery, LineDrive, LineMessaging:
		return ProductLine(s), nil
	}
	return "", Invalid(field, "%s must be one of clientGallery, drive, messaging", field)
}

// Scope is the short name of a line in billing and verify snapshots
// ("gallery", "drive", "messaging"), as the guide spells it.
func (l ProductLine) Scope() string {
	if l == LineClientGallery {
		return "gallery"
	}
	return string(l)
}

// AccountKind says which product a profile signed up for first.
type AccountKind string

// The account kinds; the guide's accountType values.
const (
	AccountStudio AccountKind = "studio"
	AccountDrive  AccountKind = "drive"
)

// Line returns the product line an account kind signs up to.
func (k AccountKind) Line() ProductLine {
	if k == AccountDrive {
		return LineDrive
	}
	return LineClientGallery
}

// ParseAccountKind validates an accountType from input.
func ParseAccountKind(field, s string) (AccountKind, error) {
	switch AccountKind(s) {
	case AccountStudio, AccountDrive:
		return AccountKind(s), nil
	}
	return "", Invalid(field, "%s must be studio or drive", field)
}
