namespace Kaapana.Core.Audit;

/// <summary>
/// What a caller hands to <see cref="IAuditTrail.Record"/>. <paramref name="Details"/> is serialised to JSON by the writer
/// (any object, e.g. an anonymous one); <paramref name="At"/> defaults to the moment of recording.
/// </summary>
public sealed record AuditEvent(string Actor, string Action, string? Target, string Outcome, string? SourceAddress = null, object? Details = null,
    DateTime? At = null);

/// <summary>Action names of the audit trail. Others (sign-ins, downloads, runs) add theirs here.</summary>
public static class AuditActions
{
    public const string DicomAssociationAccepted = "dicom.association.accepted";
    public const string DicomAssociationRejected = "dicom.association.rejected";
    public const string DicomStore = "dicom.store";
    public const string DicomFind = "dicom.find";
    public const string DicomMove = "dicom.move";
    public const string DicomGet = "dicom.get";
    public const string DicomAccessRuleAdded = "dicom-access.rule.added";
    public const string DicomAccessRuleChanged = "dicom-access.rule.changed";
    public const string DicomAccessRuleDeleted = "dicom-access.rule.deleted";
    public const string AuditPurged = "audit.purged";
    public const string SignIn = "auth.signin";
    public const string BasicSignIn = "auth.basic";
    /// <summary>A client address ran out of sign-in attempts (429); one entry per address per rate-limit window.</summary>
    public const string SignInRateLimited = "auth.rate-limited";
    public const string PasswordChanged = "auth.password-changed";
    public const string ZipExport = "export.zip";
    public const string SeriesDeleted = "series.deleted";
    public const string UserCreated = "user.created";
    public const string UserRoleChanged = "user.role.changed";
    public const string UserPasswordReset = "user.password.reset";
    public const string UserUnlocked = "user.unlocked";
    public const string UserDeleted = "user.deleted";
    public const string ProjectMemberAdded = "project.member.added";
    public const string ProjectMemberChanged = "project.member.changed";
    public const string ProjectMemberRemoved = "project.member.removed";
    /// <summary>A study opened through WADO-RS or the viewer (once per user and study per few minutes, not per frame).</summary>
    public const string StudyOpened = "study.opened";
    /// <summary>A STOW-RS request: a summary of what it stored and refused.</summary>
    public const string StowStore = "dicomweb.store";
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";
    /// <summary>A presented API token was refused (expired, revoked, unknown, owner locked out); never with the token text.</summary>
    public const string TokenRefused = "token.refused";
    public const string RunLaunched = "run.launched";
    public const string RunCancelled = "run.cancelled";
    public const string RunRetried = "run.retried";
    public const string Deidentified = "run.deidentify";
    public const string ImportStudy = "import.study";
    public const string Upload = "upload";
    public const string DatasetCreated = "dataset.created";
    public const string DatasetChanged = "dataset.changed";
    public const string DatasetDeleted = "dataset.deleted";
    public const string DatasetFrozen = "dataset.version.frozen";
    public const string SeriesAddedToProject = "project.series.added";
    public const string TriggerRuleChanged = "trigger.rule.changed";
    public const string EndpointChanged = "endpoint.changed";
    public const string SeriesSent = "series.sent";
}

public static class AuditOutcomes
{
    public const string Success = "success";
    public const string Partial = "partial";
    public const string Denied = "denied";
    public const string Failure = "failure";
}
