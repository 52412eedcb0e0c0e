"""Writes N synthetic 512x512 16-bit CT Part 10 files (explicit VR little endian) for the DicomParse benchmark.

Run with Debian's interpreter and pydicom 2.3.1 (package python3-pydicom):
    /usr/bin/python3 generate.py OUT_DIR [COUNT]

Files are ct00000.dcm ... in OUT_DIR; OUT_DIR/.complete is written last, so a half-written set is regenerated.
The header mimics a helical CT slice: 7 meta + 106 top-level + 14 nested elements, five sequences (one nested), a private block,
patient/study/series/frame-of-reference UIDs shared by all files of a series and per-slice position values.
"""
import array
import math
import os
import sys

import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

GENERATOR_VERSION = "1"  # bump when the header layout changes, to force regeneration
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ROOT = "1.2.826.0.1.3680043.9.7421"  # example root for synthetic UIDs
SLICES_PER_SERIES = 250
ROWS = COLS = 512


def pixel_bytes() -> bytes:
    """A circular 'phantom' in Hounsfield-like stored values (rescale intercept -1024), built once and shared."""
    a = array.array("H", bytes(ROWS * COLS * 2))
    c = (ROWS - 1) / 2
    for y in range(ROWS):
        dy = y - c
        row = y * COLS
        for x in range(COLS):
            r = math.hypot(x - c, dy)
            a[row + x] = 0 if r > 240 else (1024 + 40 + (x ^ y) % 16 if r < 200 else 1024 + 700)
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    it = Dataset()
    it.CodeValue = value
    it.CodingSchemeDesignator = scheme
    it.CodeMeaning = meaning
    return it


def make(i: int, pixels: bytes) -> FileDataset:
    series_no = i // SLICES_PER_SERIES
    slice_no = i % SLICES_PER_SERIES
    study_uid = f"{ROOT}.1.{1 + series_no // 2}"
    series_uid = f"{ROOT}.2.{series_no + 1}"
    frame_uid = f"{ROOT}.3.{series_no + 1}"
    sop_uid = f"{ROOT}.4.{series_no + 1}.{slice_no + 1}"
    z = -120.0 + slice_no * 1.25

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = f"{ROOT}.100"
    meta.ImplementationVersionName = "KAAPANA_BENCH"

    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False

    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "HELIX"]
    ds.InstanceCreationDate = "20240312"
    ds.InstanceCreationTime = "101512.123456"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240312"
    ds.StudyTime = "100301.000000"
    ds.SeriesTime = "100944.250000"
    ds.AcquisitionTime = f"1010{slice_no % 60:02d}.500000"
    ds.ContentTime = f"1010{slice_no % 60:02d}.750000"
    ds.AccessionNumber = f"ACC{100000 + series_no // 2}"
    ds.Modality = "CT"
    ds.Manufacturer = "Kaapana Synthetic"
    ds.InstitutionName = "Müller Klinikum"  # Latin-1 text, decoded through ISO_IR 100
    ds.InstitutionAddress = "Im Neuenheimer Feld 280, 69120 Heidelberg"
    ds.ReferringPhysicianName = "Weiß^Anna^^Dr."
    ds.StationName = "CT01"
    ds.StudyDescription = "CT THORAX ABDOMEN MIT KM"
    ds.ProcedureCodeSequence = Sequence([code_item("ZIXAB", "99KAAP", "CT Thorax/Abdomen with contrast")])
    ds.SeriesDescription = "Thorax 1.25 B31f"
    ds.InstitutionalDepartmentName = "Radiologie"
    ds.OperatorsName = "Tech^One"
    ds.ManufacturerModelName = "SynthCT 128"
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.3"
    ref.ReferencedSOPInstanceUID = f"{ROOT}.5.{series_no + 1}"
    ds.ReferencedPerformedProcedureStepSequence = Sequence([ref])
    ds.PatientName = f"Doe^Jane^{series_no // 2:03d}"
    ds.PatientID = f"PAT{series_no // 2:06d}"
    ds.IssuerOfPatientID = "KAAPANA"
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "F"
    ds.PatientAge = "064Y"
    ds.PatientSize = "1.68"
    ds.PatientWeight = "72"
    ds.ContrastBolusAgent = "IOMEPROL 350"
    ds.BodyPartExamined = "CHEST"
    ds.ScanOptions = "HELICAL_CT"
    ds.SliceThickness = "1.25"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.DeviceSerialNumber = "SN-0042"
    ds.SoftwareVersions = ["syngo CT VA48A", "SOMARIS/7 VA48A"]
    ds.ProtocolName = "Thorax_Abdomen_KM"
    ds.ReconstructionDiameter = "380"
    ds.DistanceSourceToDetector = "1085.6"
    ds.DistanceSourceToPatient = "595"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "168"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = 187 + slice_no % 40
    ds.Exposure = 94 + slice_no % 20
    ds.FilterType = "FLAT"
    ds.GeneratorPower = "22"
    ds.FocalSpots = "1.2"
    ds.ConvolutionKernel = "B31f"
    ds.PatientPosition = "FFS"
    ds.RevolutionTime = 0.5
    ds.SingleCollimationWidth = 0.6
    ds.TotalCollimationWidth = 38.4
    ds.TableSpeed = 46.08
    ds.TableFeedPerRotation = 23.04
    ds.SpiralPitchFactor = 0.6
    ds.DataCollectionCenterPatient = [0.0, -168.0, z]
    ds.ReconstructionTargetCenterPatient = [0.0, -190.0, z]
    ds.ExposureModulationType = "XYZ_EC"
    ds.CTDIvol = 7.83
    phantom = code_item("113691", "DCM", "IEC Body Dosimetry Phantom")
    ds.CTDIPhantomTypeCodeSequence = Sequence([phantom])
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = str(1 + series_no // 2)
    ds.SeriesNumber = str(2 + series_no % 2)
    ds.AcquisitionNumber = "1"
    ds.InstanceNumber = str(slice_no + 1)
    ds.ImagePositionPatient = ["-189.62890625", "-379.62890625", f"{z:.2f}"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = f"{z:.2f}"
    ds.ImageComments = "synthetic slice for header parsing benchmark"
    # Nested sequence: source image with a purpose-of-reference code (sequence in a sequence item).
    src = Dataset()
    src.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    src.ReferencedSOPInstanceUID = f"{ROOT}.6.{series_no + 1}.{slice_no + 1}"
    src.PurposeOfReferenceCodeSequence = Sequence([code_item("121311", "DCM", "Localizer")])
    ds.SourceImageSequence = Sequence([src])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ROWS
    ds.Columns = COLS
    ds.PixelSpacing = ["0.7421875", "0.7421875"]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.SmallestImagePixelValue = 0
    ds.LargestImagePixelValue = 1724
    ds["SmallestImagePixelValue"].VR = "US"
    ds["LargestImagePixelValue"].VR = "US"
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1200"]
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenterWidthExplanation = ["WINDOW1", "WINDOW2"]
    ds.LossyImageCompression = "00"
    # A private block, as every vendor writes one.
    block = ds.private_block(0x0019, "KAAPANA BENCH 1.0", create=True)
    block.add_new(0x10, "LO", "synthetic")
    block.add_new(0x11, "DS", "0.5")
    block.add_new(0x12, "US", slice_no)
    block.add_new(0x13, "OB", bytes(range(64)))
    ds.PixelData = pixels
    ds["PixelData"].VR = "OW"
    return ds


def main() -> None:
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    marker = os.path.join(out, ".complete")
    want = f"{GENERATOR_VERSION} {count} pydicom {pydicom.__version__}\n"
    if os.path.exists(marker) and open(marker).read() == want:
        print(f"{count} files already in {out}")
        return
    os.makedirs(out, exist_ok=True)
    if os.path.exists(marker):
        os.remove(marker)
    pixels = pixel_bytes()
    for i in range(count):
        make(i, pixels).save_as(os.path.join(out, f"ct{i:05d}.dcm"), write_like_original=False)
    with open(marker, "w") as f:
        f.write(want)
    print(f"wrote {count} files to {out}")


if __name__ == "__main__":
    main()
