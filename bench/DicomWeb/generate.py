"""Writes the DICOMweb benchmark's archive: 10,000 CT instances in a realistic mix for QIDO and WADO-RS.

    /usr/bin/python3 generate.py OUT_DIR

- 384 studies x 1 series x 25 instances of 64x64 (9,600 small instances): many patients with varied names and study
  dates (2015-2024), so QIDO queries on PatientName + StudyDate have to search a real index;
- 4 studies x 1 series x 100 instances of 512x512 16-bit (400 instances, ~210 MB): the series WADO-RS retrieves.
Deterministic (seeded), explicit VR little endian, Debian's pydicom 2.3.1. OUT_DIR/.complete is written last, and the
UID list of the big series goes to OUT_DIR/big-series.tsv (study<TAB>series).
"""
import os
import random
import sys

import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

VERSION = "1"
CT = "1.2.840.10008.5.1.4.1.1.2"
ROOT = "1.2.826.0.1.3680043.9.7423"
SURNAMES = ["SMITH", "MUELLER", "GARCIA", "ROSSI", "NOVAK", "KOWALSKI", "DUBOIS", "JANSEN", "SILVA", "NAKAMURA",
            "OKAFOR", "HANSEN", "PETROV", "LEHMANN", "BRAUN", "WAGNER", "SCHMIDT", "MARTIN", "BERNARD", "LARSEN"]
GIVEN = ["ANNA", "BEN", "CARLA", "DAVID", "EVA", "FELIX", "GRETA", "HUGO", "IDA", "JONAS"]


def pixels(n: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) if i % 2 == 0 else rnd.getrandbits(3) for i in range(n * n * 2))


def write(path, study, series, sop, patient, name, date, slice_no, size, pix, series_no):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = f"{ROOT}.100"
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID, ds.SOPInstanceUID = CT, sop
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = date
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.AccessionNumber = f"A{series_no:07d}"
    ds.Modality = "CT"
    ds.Manufacturer = "Kaapana Synthetic"
    ds.ReferringPhysicianName = "Ref^Doc"
    ds.StudyDescription = "CT THORAX"
    ds.SeriesDescription = "Axial 1.25"
    ds.PatientName, ds.PatientID = name, patient
    ds.PatientBirthDate, ds.PatientSex = "19600101", "F"
    ds.BodyPartExamined = "CHEST"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, slice_no + 1
    ds.FrameOfReferenceUID = series + ".9"
    ds.ImagePositionPatient = [0.0, 0.0, slice_no * 1.25]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.SliceThickness = "1.25"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.PixelSpacing = [0.7, 0.7]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.PixelData = pix
    ds.save_as(path, write_like_original=False)


def main():
    out = sys.argv[1]
    done = os.path.join(out, ".complete")
    if os.path.exists(done) and open(done).read() == VERSION:
        return
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(7423)
    small, big = pixels(64, 1), pixels(512, 2)
    big_series = []
    n = 0
    for s in range(388):
        is_big = s % 97 == 0  # studies 0, 97, 194, 291
        patient = f"P{s // 2:05d}"  # two studies per patient
        if s % 2 == 0:
            name = f"{rnd.choice(SURNAMES)}^{rnd.choice(GIVEN)}^{s // 2:03d}"
        date = f"{rnd.randint(2015, 2024)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
        study, series = f"{ROOT}.1.{s + 1}", f"{ROOT}.2.{s + 1}"
        count = 100 if is_big else 25
        if is_big:
            big_series.append((study, series))
        for i in range(count):
            write(os.path.join(out, f"i{n:05d}.dcm"), study, series, f"{ROOT}.4.{s + 1}.{i + 1}", patient, name, date, i,
                  512 if is_big else 64, big if is_big else small, s + 1)
            n += 1
    with open(os.path.join(out, "big-series.tsv"), "w") as f:
        f.writelines(f"{a}\t{b}\n" for a, b in big_series)
    open(done, "w").write(VERSION)
    print(f"{n} instances in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
