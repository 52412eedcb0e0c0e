namespace Kaapana.Dicom.Deidentification;

/// <summary>What happens to dates and times (PS3.15 E.3.6).</summary>
public enum DateHandling
{
    /// <summary>Basic Profile: dates and times are removed, emptied or replaced with dummies.</summary>
    Remove,
    /// <summary>Retain Longitudinal Temporal Information with Full Dates Option (113106).</summary>
    RetainFull,
    /// <summary>
    /// Retain Longitudinal Temporal Information with Modified Dates Option (113107): every date moves by the same whole number of
    /// days per patient (from <see cref="IDeidentificationMapping.DateShiftDays"/>), so intervals survive; times of day stay as they are.
    /// </summary>
    Shift,
}

/// <summary>
/// The profile options to apply on top of the PS3.15 Basic Application Level Confidentiality Profile. Bindable from configuration.
/// Not offered: Clean Descriptors / Structured Content / Graphics / Pixel Data (they need a person or an OCR step; the attributes
/// concerned get the Basic Profile action) and Retain Safe Private (all private elements are removed).
/// </summary>
public sealed record DeidentificationOptions
{
    public DateHandling Dates { get; init; } = DateHandling.Remove;

    /// <summary>Retain Device Identity Option (113109): station name, device serial number, ...</summary>
    public bool RetainDeviceIdentity { get; init; }

    /// <summary>Retain Patient Characteristics Option (113108): sex, age, size, weight, ethnic group, ...</summary>
    public bool RetainPatientCharacteristics { get; init; }

    /// <summary>Retain Institution Identity Option (113112).</summary>
    public bool RetainInstitutionIdentity { get; init; }

    /// <summary>Retain UIDs Option (113110): no UID is remapped (then the same study copied twice collides in an archive).</summary>
    public bool RetainUids { get; init; }

    /// <summary>Text written where the profile asks for a dummy value (D), cut to what the VR allows.</summary>
    public string DummyText { get; init; } = "ANONYMIZED";

    /// <summary>The option columns of Table E.1-1 that these settings select.</summary>
    public ConfidentialityOption ProfileOptions =>
        (Dates == DateHandling.RetainFull ? ConfidentialityOption.RetainLongitudinalFullDates : 0)
        | (Dates == DateHandling.Shift ? ConfidentialityOption.RetainLongitudinalModifiedDates : 0)
        | (RetainDeviceIdentity ? ConfidentialityOption.RetainDeviceIdentity : 0)
        | (RetainPatientCharacteristics ? ConfidentialityOption.RetainPatientCharacteristics : 0)
        | (RetainInstitutionIdentity ? ConfidentialityOption.RetainInstitutionIdentity : 0)
        | (RetainUids ? ConfidentialityOption.RetainUids : 0);
}
