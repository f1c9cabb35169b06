package callwindow

// split is one entry of the split-area-code table: every zone a number of the area code may be
// in, and where that comes from.
type split struct {
	zones  []string
	source string
}

// Sources cited by the table (full references in docs/dialer.md, "Split area codes"):
const (
	cfr715 = "49 CFR 71.5 (boundary between the eastern and central zones)"
	cfr717 = "49 CFR 71.7 (boundary between the central and mountain zones)"
	cfr719 = "49 CFR 71.9 (boundary between the mountain and Pacific zones)"
	tzTab  = "tzdata zone1970.tab"
	pnData = "phonenumbers v1.8.1 exchange-level data names both zones"
)

// splitAreaCodes widens phonenumbers' answer for North American area codes that span more
// than one zone. phonenumbers v1.8.1 maps some exchanges of these area codes to the second
// zone, but every exchange missing from its data (new, ported or mobile blocks, and every
// overlay code) falls back to the area code's single default zone: for 270, 850, 812 and 906
// that default is Eastern, though parts of each are on Central time. The table is a union: a
// number of a listed area code must be inside the window in every listed zone, and in every
// zone phonenumbers gives. A recipient's explicit zone still wins.
//
// Left out on purpose: 605, 701, 208, 986 and 775 (phonenumbers already gives zones of both
// sides), 915 (El Paso and Hudspeth counties are both on mountain time, 49 CFR 71.7), 229
// (all of Georgia is eastern, 49 CFR 71.4/71.5) and 907 (phonenumbers gives Adak and Anchorage).
var splitAreaCodes = map[string]split{
	// Kentucky: the western counties are central (Bowling Green, Paducah, Owensboro).
	"270": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + pnData},
	"364": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; overlay of 270"},
	"606": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + pnData},
	// Florida panhandle: west of the Apalachicola River is central (Pensacola, Panama City).
	"850": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + pnData},
	"448": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; overlay of 850"},
	// Indiana: the south-west (Evansville, Perry county) and the north-west (Gary, Starke
	// county) are central.
	"812": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + tzTab + " America/Indiana/Tell_City (Perry); " + pnData},
	"930": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; overlay of 812"},
	"219": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + pnData},
	"574": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + tzTab + " America/Indiana/Knox (Starke); " + pnData},
	// Michigan's Upper Peninsula: Gogebic, Iron, Dickinson and Menominee counties are central.
	"906": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + tzTab + " America/Menominee; " + pnData},
	// Tennessee: Chattanooga and the north-east are eastern, phonenumbers' default is central.
	"423": {[]string{"America/New_York", "America/Chicago"}, cfr715 + "; " + pnData},
	// Nebraska panhandle and western Kansas (Greeley, Hamilton, Sherman, Wallace) are mountain.
	"308": {[]string{"America/Chicago", "America/Denver"}, cfr717 + "; " + pnData},
	"620": {[]string{"America/Chicago", "America/Denver"}, cfr717 + "; " + pnData},
	"785": {[]string{"America/Chicago", "America/Denver"}, cfr717 + "; " + pnData},
	// Oregon: most of Malheur county is mountain.
	"541": {[]string{"America/Los_Angeles", "America/Boise"}, cfr719 + "; " + tzTab + " America/Boise (OR east); " + pnData},
	"458": {[]string{"America/Los_Angeles", "America/Boise"}, cfr719 + "; overlay of 541"},
	// Arizona: the Navajo Nation observes daylight saving time, the rest of the state does not.
	"928": {[]string{"America/Phoenix", "America/Denver"}, tzTab + " America/Phoenix (AZ most areas); " + pnData},
	// Canada (provincial time, not 49 CFR).
	"250": {[]string{"America/Vancouver", "America/Edmonton"}, tzTab + " America/Edmonton (BC east); " + pnData},
	"807": {[]string{"America/Toronto", "America/Winnipeg"}, tzTab + " America/Winnipeg (ON west); " + pnData},
	"418": {[]string{"America/Toronto", "America/Halifax", "America/Puerto_Rico"}, tzTab + " America/Puerto_Rico (QC Lower North Shore); " + pnData},
	"709": {[]string{"America/St_Johns", "America/Goose_Bay"}, tzTab + " America/Goose_Bay (Labrador most areas); " + pnData},
	"867": {[]string{"America/Whitehorse", "America/Edmonton", "America/Rankin_Inlet", "America/Iqaluit"}, tzTab + " (Yukon, NT, NU central and east); " + pnData},
}
