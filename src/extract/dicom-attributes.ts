// What the extractor takes from a DICOM header, and what it must never take. Only the attributes in SCAN_ATTRIBUTES
// are ever read as values; identifying attributes are looked at for presence alone (is there a non-empty value?) and
// reported by their keyword, so a patient's name never reaches a tag, the search index, an event or a log line.
import type { DataSet } from "dicom-parser";

/** The settings copied into the `Scan` subtree: tag, key, and how the value is written (units kept in the value). */
const SCAN_ATTRIBUTES: { tag: string; key: string; format: (v: string) => string | undefined }[] = [
  { tag: "x00080060", key: "Modality", format: (v) => v },
  { tag: "x00080070", key: "Manufacturer", format: (v) => v },
  { tag: "x00081090", key: "Model", format: (v) => v },
  { tag: "x00180060", key: "Voltage", format: (v) => withUnit(v, "kV") },
  { tag: "x00181152", key: "Exposure", format: (v) => withUnit(v, "mAs") },
  { tag: "x00181150", key: "Exposure time", format: (v) => withUnit(v, "ms") },
  { tag: "x00181151", key: "Tube current", format: (v) => withUnit(v, "mA") },
  { tag: "x00180050", key: "Slice thickness", format: (v) => withUnit(v, "mm") },
  { tag: "x00280030", key: "Pixel spacing", format: (v) => pair(v, "mm") },
  // The study's date alone: its time, like every other date of the profile, is left out.
  { tag: "x00080020", key: "Date", format: dicomDate },
];

/**
 * Attributes of the PS3.15 Basic Application Level Confidentiality Profile (Table E.1-1) that name or identify a
 * person, an institution, a device or a visit. A file holding any of them with a value marks its dataset as carrying
 * personal data. Left out on purpose: UIDs (they identify objects, not people, and are in every file), the study date
 * (copied, as a date only) and free-text descriptions; private attributes are never read at all.
 */
export const IDENTIFYING_ATTRIBUTES: Record<string, string> = {
  x00080050: "AccessionNumber",
  x00080080: "InstitutionName",
  x00080081: "InstitutionAddress",
  x00080082: "InstitutionCodeSequence",
  x00080090: "ReferringPhysicianName",
  x00080092: "ReferringPhysicianAddress",
  x00080094: "ReferringPhysicianTelephoneNumbers",
  x00080096: "ReferringPhysicianIdentificationSequence",
  x0008009c: "ConsultingPhysicianName",
  x0008009d: "ConsultingPhysicianIdentificationSequence",
  x00081010: "StationName",
  x00081040: "InstitutionalDepartmentName",
  x00081048: "PhysiciansOfRecord",
  x00081049: "PhysiciansOfRecordIdentificationSequence",
  x00081050: "PerformingPhysicianName",
  x00081052: "PerformingPhysicianIdentificationSequence",
  x00081060: "NameOfPhysiciansReadingStudy",
  x00081062: "PhysiciansReadingStudyIdentificationSequence",
  x00081070: "OperatorsName",
  x00081072: "OperatorIdentificationSequence",
  x00081120: "ReferencedPatientSequence",
  x00100010: "PatientName",
  x00100020: "PatientID",
  x00100021: "IssuerOfPatientID",
  x00100030: "PatientBirthDate",
  x00100032: "PatientBirthTime",
  x00100040: "PatientSex",
  x00100050: "PatientInsurancePlanCodeSequence",
  x00100101: "PatientPrimaryLanguageCodeSequence",
  x00100102: "PatientPrimaryLanguageModifierCodeSequence",
  x00101000: "OtherPatientIDs",
  x00101001: "OtherPatientNames",
  x00101002: "OtherPatientIDsSequence",
  x00101005: "PatientBirthName",
  x00101010: "PatientAge",
  x00101020: "PatientSize",
  x00101030: "PatientWeight",
  x00101040: "PatientAddress",
  x00101050: "InsurancePlanIdentification",
  x00101060: "PatientMotherBirthName",
  x00101080: "MilitaryRank",
  x00101081: "BranchOfService",
  x00101090: "MedicalRecordLocator",
  x00101100: "ReferencedPatientPhotoSequence",
  x00102000: "MedicalAlerts",
  x00102110: "Allergies",
  x00102150: "CountryOfResidence",
  x00102152: "RegionOfResidence",
  x00102154: "PatientTelephoneNumbers",
  x00102160: "EthnicGroup",
  x00102180: "Occupation",
  x001021a0: "SmokingStatus",
  x001021b0: "AdditionalPatientHistory",
  x001021c0: "PregnancyStatus",
  x001021d0: "LastMenstrualDate",
  x001021f0: "PatientReligiousPreference",
  x00102203: "PatientSexNeutered",
  x00102297: "ResponsiblePerson",
  x00102299: "ResponsibleOrganization",
  x00104000: "PatientComments",
  x00181000: "DeviceSerialNumber",
  x00181004: "PlateID",
  x00200010: "StudyID",
  x00321032: "RequestingPhysician",
  x00321033: "RequestingService",
  x00380010: "AdmissionID",
  x00380300: "CurrentPatientLocation",
  x00380400: "PatientInstitutionResidence",
  x00400006: "ScheduledPerformingPhysicianName",
  x00400009: "ScheduledProcedureStepID",
  x00400241: "PerformedStationAETitle",
  x00400242: "PerformedStationName",
  x00400243: "PerformedLocation",
  x00400253: "PerformedProcedureStepID",
  x00401001: "RequestedProcedureID",
  x00401010: "NamesOfIntendedRecipientsOfResults",
  x00402016: "PlacerOrderNumberImagingServiceRequest",
  x00402017: "FillerOrderNumberImagingServiceRequest",
  x0040a073: "VerifyingObserverSequence",
  x0040a075: "VerifyingObserverName",
  x0040a088: "VerifyingObserverIdentificationCodeSequence",
  x0040a123: "PersonName",
  x40080114: "PhysicianApprovingInterpretation",
};

/** Sequences are searched this deep for identifiers; deeper nesting is no image header a scanner writes. */
const MAX_SEQUENCE_DEPTH = 8;

/** What one DICOM file gave: its settings (key to value, in SCAN_ATTRIBUTES order) and the identifying attributes it holds. */
export interface DicomAttributes {
  scan: [string, string][];
  identifiers: Set<string>;
}

/** One DICOM header's settings and identifying attributes (the readers parse it: src/preview/readers/dicom.ts). */
export function dicomAttributes(ds: DataSet): DicomAttributes {
  const scan: [string, string][] = [];
  for (const a of SCAN_ATTRIBUTES) {
    const raw = ds.elements[a.tag] ? ds.string(a.tag) : undefined;
    const value = raw === undefined ? undefined : a.format(raw.replace(/\0/g, "").trim());
    if (value) scan.push([a.key, value]);
  }
  const identifiers = new Set<string>();
  findIdentifiers(ds, identifiers, 0);
  return { scan, identifiers };
}

/** Collects the keywords of identifying attributes present with a value, in the data set and its sequences. */
function findIdentifiers(ds: DataSet, found: Set<string>, depth: number): void {
  for (const [tag, el] of Object.entries(ds.elements)) {
    const keyword = IDENTIFYING_ATTRIBUTES[tag];
    const items = el.items ?? [];
    if (keyword && (items.length > 0 || hasValue(ds, el))) found.add(keyword);
    if (depth < MAX_SEQUENCE_DEPTH) for (const item of items) if (item.dataSet) findIdentifiers(item.dataSet, found, depth + 1);
  }
}

/** Whether an element holds more than padding (spaces, NULs): looked at byte by byte, never turned into text. */
function hasValue(ds: DataSet, el: { dataOffset: number; length: number }): boolean {
  const end = Math.min(el.dataOffset + el.length, ds.byteArray.length);
  for (let i = el.dataOffset; i < end; i++) if (ds.byteArray[i] !== 0x20 && ds.byteArray[i] !== 0) return true;
  return false;
}

/** A decimal string with its unit ("120" -> "120 kV"); nothing when it is no number. */
export function withUnit(v: string | undefined, unit: string): string | undefined {
  const n = Number((v ?? "").trim().split("\\")[0]);
  return v !== undefined && v.trim() !== "" && Number.isFinite(n) ? `${formatNumber(n)} ${unit}` : undefined;
}

/** Two decimal strings ("0.66\\0.7") as "0.66 x 0.7 mm", or as one ("0.66 mm") when they agree. */
function pair(v: string, unit: string): string | undefined {
  const parts = v.split("\\").map((p) => Number(p.trim()));
  if (parts.length < 2 || !parts.every(Number.isFinite)) return undefined;
  return parts[0] === parts[1] ? `${formatNumber(parts[0]!)} ${unit}` : `${formatNumber(parts[0]!)} x ${formatNumber(parts[1]!)} ${unit}`;
}

/** A DICOM DA ("20040119") as an ISO date; anything else (a range, a time, a broken value) gives nothing. */
function dicomDate(v: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v) ?? /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && y >= 1800 ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** A number as people write it: at most six significant digits, no trailing zeros ("0.0125", "90"). */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(6)));
}
