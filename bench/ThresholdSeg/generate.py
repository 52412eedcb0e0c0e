"""Writes SERIES synthetic CT series (SLICES slices of SIZE x SIZE, 16-bit, explicit VR little endian) for the ThresholdSeg
benchmark: a water-like body (40 HU) holding a bone-like core (700 HU) in air, with full image-plane geometry, so
threshold-seg segments the core of every slice.

    /usr/bin/python3 generate.py OUT_DIR [SERIES=20] [SLICES=64] [SIZE=256]

Files are OUT_DIR/s<NN>/<slice>.dcm; new UIDs on every call (a benchmark run must not collide with an earlier one).
"""
import array
import math
import os
import sys
import uuid

from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def uid() -> str:
    return "2.25." + str(uuid.uuid4().int)


def pixels(size: int) -> bytes:
    a = array.array("H", bytes(size * size * 2))
    c = (size - 1) / 2
    for y in range(size):
        for x in range(size):
            r = math.hypot(x - c, y - c)
            hu = -1000 if r > 0.45 * size else (700 if r < 0.15 * size else 40)
            a[y * size + x] = hu + 1024  # rescale intercept -1024
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def main() -> None:
    out = sys.argv[1]
    series_count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    slices = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    data = pixels(size)
    study = uid()
    for s in range(series_count):
        series, frame = uid(), uid()
        folder = os.path.join(out, f"s{s:02d}")
        os.makedirs(folder, exist_ok=True)
        for k in range(slices):
            sop = uid()
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
            meta.MediaStorageSOPInstanceUID = sop
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            meta.ImplementationClassUID = "2.25.1"
            ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
            ds.is_little_endian, ds.is_implicit_VR = True, False
            ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE_STORAGE, sop
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
            ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Bench^Threshold", "BENCH-TS", "19700101", "O"
            ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.StudyID = "20240312", "100000", "TS1", "1"
            ds.ReferringPhysicianName = ""
            ds.Modality, ds.SeriesNumber, ds.SeriesDescription, ds.BodyPartExamined = "CT", s + 1, f"bench CT {s + 1}", "CHEST"
            ds.Manufacturer = "Kaapana bench"
            ds.InstanceNumber = k + 1
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.ImagePositionPatient = [-0.5 * size, -0.5 * size, k * 2.0]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelSpacing = [1.0, 1.0]
            ds.SliceThickness = 2.0
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.Rows = ds.Columns = size
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
            ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
            ds.PixelData = data
            ds.save_as(os.path.join(folder, f"{k + 1:04d}.dcm"), write_like_original=False)


if __name__ == "__main__":
    main()
