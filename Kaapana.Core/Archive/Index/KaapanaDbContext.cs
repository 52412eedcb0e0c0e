using Kaapana.Core.Access.Dicom;
using Kaapana.Core.Audit;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Index;

/// <summary>
/// The archive index. The model uses only provider-neutral configuration (no SQLite column
/// types or pragmas) so that a PostgreSQL provider can be added with its own migrations. It also holds the sign-in
/// accounts and roles (ASP.NET Core Identity), so users and data share one database.
/// </summary>
public sealed class KaapanaDbContext(DbContextOptions<KaapanaDbContext> options) : IdentityDbContext<KaapanaUser>(options)
{
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<Patient> Patients => Set<Patient>();
    public DbSet<Study> Studies => Set<Study>();
    public DbSet<Series> Series => Set<Series>();
    public DbSet<Instance> Instances => Set<Instance>();
    public DbSet<SeriesAttribute> SeriesAttributes => Set<SeriesAttribute>();
    public DbSet<ProjectSeries> ProjectSeries => Set<ProjectSeries>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DatasetSeries> DatasetSeries => Set<DatasetSeries>();
    public DbSet<DatasetVersion> DatasetVersions => Set<DatasetVersion>();
    public DbSet<DatasetVersionItem> DatasetVersionItems => Set<DatasetVersionItem>();
    public DbSet<ReceivingEndpoint> ReceivingEndpoints => Set<ReceivingEndpoint>();
    public DbSet<Dicom.RemoteNode> RemoteNodes => Set<Dicom.RemoteNode>();
    public DbSet<Algorithm> Algorithms => Set<Algorithm>();
    public DbSet<WorkflowRun> WorkflowRuns => Set<WorkflowRun>();
    public DbSet<RunItem> RunItems => Set<RunItem>();
    public DbSet<RunArtifact> RunArtifacts => Set<RunArtifact>();
    public DbSet<DerivedSeries> DerivedSeries => Set<DerivedSeries>();
    public DbSet<Tags.SeriesTag> SeriesTags => Set<Tags.SeriesTag>();
    public DbSet<Tags.TagUsage> TagUsages => Set<Tags.TagUsage>();
    public DbSet<Workflows.Triggers.TriggerRule> TriggerRules => Set<Workflows.Triggers.TriggerRule>();
    public DbSet<Workflows.Triggers.TriggerFiring> TriggerFirings => Set<Workflows.Triggers.TriggerFiring>();
    public DbSet<Kaapana.Core.Workflows.BuiltIn.DeidentificationKey> DeidentificationKeys => Set<Kaapana.Core.Workflows.BuiltIn.DeidentificationKey>();
    public DbSet<DicomAccessRule> DicomAccessRules => Set<DicomAccessRule>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<Access.ProjectMember> ProjectMembers => Set<Access.ProjectMember>();
    public DbSet<Access.Tokens.ApiToken> ApiTokens => Set<Access.Tokens.ApiToken>();

    // DICOM value lengths (PS3.5 6.2): UI 64, LO 64, SH 16, CS 16, PN 64 per group (3 groups), DA 8, TM 16, AE 16.
    private const int UI = 64, LO = 64, SH = 16, CS = 16, PN = 200, DA = 8, TM = 16, AE = 16;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder); // the Identity tables (AspNetUsers, AspNetRoles, ...)

        modelBuilder.Entity<Project>(project =>
        {
            project.Property(p => p.Name).HasMaxLength(200);
            project.Property(p => p.Description).HasMaxLength(4000);
            project.HasIndex(p => p.Name).IsUnique();
        });

        modelBuilder.Entity<Patient>(p =>
        {
            p.Property(x => x.PatientID).HasMaxLength(LO);
            p.Property(x => x.IssuerOfPatientID).HasMaxLength(LO);
            p.Property(x => x.PatientName).HasMaxLength(PN);
            p.Property(x => x.PatientNameSearch).HasMaxLength(PN);
            p.Property(x => x.PatientBirthDate).HasMaxLength(DA);
            p.Property(x => x.PatientSex).HasMaxLength(CS);
            p.HasIndex(x => x.PatientID).IsUnique();
            p.HasIndex(x => x.PatientNameSearch);
            p.HasIndex(x => x.PatientBirthDate);
        });

        modelBuilder.Entity<Study>(s =>
        {
            s.Property(x => x.StudyInstanceUID).HasMaxLength(UI);
            s.Property(x => x.StudyDate).HasMaxLength(DA);
            s.Property(x => x.StudyTime).HasMaxLength(TM);
            s.Property(x => x.AccessionNumber).HasMaxLength(SH);
            s.Property(x => x.StudyID).HasMaxLength(SH);
            s.Property(x => x.StudyDescription).HasMaxLength(LO);
            s.Property(x => x.ReferringPhysicianName).HasMaxLength(PN);
            s.Property(x => x.ModalitiesInStudy).HasMaxLength(200);
            s.HasIndex(x => x.StudyInstanceUID).IsUnique();
            s.HasIndex(x => x.PatientId);
            s.HasIndex(x => x.StudyDate);
            s.HasIndex(x => x.AccessionNumber);
            s.HasOne(x => x.Patient).WithMany(p => p.Studies).HasForeignKey(x => x.PatientId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Series>(s =>
        {
            s.Property(x => x.SeriesInstanceUID).HasMaxLength(UI);
            s.Property(x => x.Modality).HasMaxLength(CS);
            s.Property(x => x.SeriesDescription).HasMaxLength(LO);
            s.Property(x => x.BodyPartExamined).HasMaxLength(CS);
            s.Property(x => x.Manufacturer).HasMaxLength(LO);
            s.Property(x => x.ManufacturerModelName).HasMaxLength(LO);
            s.Property(x => x.SeriesDate).HasMaxLength(DA);
            s.Property(x => x.SeriesTime).HasMaxLength(TM);
            s.HasIndex(x => x.SeriesInstanceUID).IsUnique();
            s.HasIndex(x => x.StudyId);
            s.HasIndex(x => x.Modality);
            s.HasIndex(x => x.IsComplete);
            s.HasOne(x => x.Study).WithMany(st => st.Series).HasForeignKey(x => x.StudyId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Instance>(i =>
        {
            i.Property(x => x.SOPInstanceUID).HasMaxLength(UI);
            i.Property(x => x.SOPClassUID).HasMaxLength(UI);
            i.Property(x => x.TransferSyntaxUID).HasMaxLength(UI);
            i.Property(x => x.StoragePath).HasMaxLength(400);
            i.Property(x => x.ContentHash).HasMaxLength(64);
            i.Property(x => x.CallingAE).HasMaxLength(AE);
            i.Property(x => x.CalledAE).HasMaxLength(AE);
            i.Property(x => x.PeerAddress).HasMaxLength(100);
            i.Property(x => x.UploadUser).HasMaxLength(200);
            i.HasIndex(x => x.SOPInstanceUID).IsUnique();
            i.HasIndex(x => x.SeriesId);
            i.HasIndex(x => x.SOPClassUID);
            i.HasOne(x => x.Series).WithMany(s => s.Instances).HasForeignKey(x => x.SeriesId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<SeriesAttribute>(a =>
        {
            a.HasKey(x => new { x.SeriesId, x.Tag });
            a.Property(x => x.Value).HasMaxLength(1024);
            // SeriesId last makes it covering: "series whose tag has one of these values" is answered from the index alone,
            // without a table row fetch per match (the data browser's and QIDO's attribute filters).
            a.HasIndex(x => new { x.Tag, x.Value, x.SeriesId });
            a.HasOne<Series>().WithMany(s => s.Attributes).HasForeignKey(x => x.SeriesId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ProjectSeries>(ps =>
        {
            ps.HasKey(x => new { x.ProjectId, x.SeriesId });
            ps.HasIndex(x => x.SeriesId);
            ps.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Cascade);
            ps.HasOne(x => x.Series).WithMany().HasForeignKey(x => x.SeriesId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Dataset>(d =>
        {
            d.Property(x => x.Name).HasMaxLength(200);
            d.Property(x => x.Description).HasMaxLength(4000);
            d.HasIndex(x => new { x.ProjectId, x.Name }).IsUnique();
            d.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DatasetSeries>(ds =>
        {
            ds.HasKey(x => new { x.DatasetId, x.SeriesId });
            ds.HasIndex(x => x.SeriesId);
            ds.HasOne<Dataset>().WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
            ds.HasOne(x => x.Series).WithMany().HasForeignKey(x => x.SeriesId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DatasetVersion>(v =>
        {
            v.Property(x => x.DatasetName).HasMaxLength(200);
            v.Property(x => x.Note).HasMaxLength(4000);
            v.Property(x => x.UidListHash).HasMaxLength(64);
            v.HasIndex(x => new { x.DatasetId, x.Number }).IsUnique();
            v.HasIndex(x => x.ProjectId);
            // Versions outlive their dataset: it is only a label then.
            v.HasOne<Dataset>().WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.SetNull);
            v.HasMany(x => x.Items).WithOne().HasForeignKey(x => x.DatasetVersionId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DatasetVersionItem>(i =>
        {
            i.HasKey(x => new { x.DatasetVersionId, x.SOPInstanceUID });
            i.Property(x => x.StudyInstanceUID).HasMaxLength(UI);
            i.Property(x => x.SeriesInstanceUID).HasMaxLength(UI);
            i.Property(x => x.SOPInstanceUID).HasMaxLength(UI);
        });

        modelBuilder.Entity<ReceivingEndpoint>(e =>
        {
            e.Property(x => x.AETitle).HasMaxLength(AE);
            e.Property(x => x.Description).HasMaxLength(4000);
            e.HasIndex(x => x.AETitle).IsUnique();
            e.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Dataset>().WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.SetNull);
        });

        modelBuilder.Entity<DicomAccessRule>(r =>
        {
            r.Property(x => x.CalledAE).HasMaxLength(AE);
            r.Property(x => x.CallingAE).HasMaxLength(AE);
            r.Property(x => x.PeerAddress).HasMaxLength(64);
            r.Property(x => x.Description).HasMaxLength(1000);
        });

        modelBuilder.Entity<Access.ProjectMember>(m =>
        {
            m.HasKey(x => new { x.ProjectId, x.UserId });
            m.HasIndex(x => x.UserId);
            m.Property(x => x.Role).HasConversion<string>().HasMaxLength(20);
            m.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Cascade);
            m.HasOne<KaapanaUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<AuditEntry>(a =>
        {
            a.Property(x => x.Actor).HasMaxLength(AuditEntry.ActorMaxLength);
            a.Property(x => x.Action).HasMaxLength(AuditEntry.ActionMaxLength);
            a.Property(x => x.Target).HasMaxLength(AuditEntry.TargetMaxLength);
            a.Property(x => x.Outcome).HasMaxLength(AuditEntry.OutcomeMaxLength);
            a.Property(x => x.SourceAddress).HasMaxLength(AuditEntry.SourceMaxLength);
            a.HasIndex(x => x.At); // newest-first pages, time filters, the retention purge
            a.HasIndex(x => new { x.Actor, x.At });
            a.HasIndex(x => new { x.Action, x.At });
        });

        modelBuilder.Entity<Dicom.RemoteNode>(n =>
        {
            n.Property(x => x.AETitle).HasMaxLength(AE);
            n.Property(x => x.Host).HasMaxLength(253);
            n.Property(x => x.Description).HasMaxLength(4000);
            n.HasIndex(x => x.AETitle).IsUnique();
        });

        WorkflowModel.Configure(modelBuilder);
        Tags.TagsModel.Configure(modelBuilder);
        Workflows.Triggers.TriggerModel.Configure(modelBuilder);
        Access.Tokens.ApiTokenModel.Configure(modelBuilder);
    }
}
