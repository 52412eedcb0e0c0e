namespace Kaapana.Dicom.Deidentification;

/// <summary>The replacement identity of a patient in one target (e.g. a project).</summary>
public sealed record PatientPseudonym(string PatientId, string PatientName);

/// <summary>
/// Replacement values for one de-identification target. Implementations must be consistent: the same input always gives the
/// same output for the same target (so a study de-identified twice, or in several batches, keeps its UIDs and references), and
/// different targets should give different outputs (so copies in two projects cannot be linked by UID).
/// </summary>
public interface IDeidentificationMapping
{
    /// <summary>The new UID for an original UID (instance, series, study, frame of reference, ... UIDs alike).</summary>
    string MapUid(string originalUid);

    /// <summary>The pseudonym for a patient, identified by <paramref name="patientKey"/> (see <see cref="DicomDeidentifier.PatientKey"/>).</summary>
    PatientPseudonym MapPatient(string patientKey);

    /// <summary>Days to add to every date of this patient with <see cref="DateHandling.Shift"/> (usually negative).</summary>
    int DateShiftDays(string patientKey);
}
