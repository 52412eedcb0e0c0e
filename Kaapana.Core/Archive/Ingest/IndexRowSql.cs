namespace Kaapana.Core.Archive.Ingest;

/// <summary>
/// The statements of the ingest hot path (<see cref="IndexRowStore"/>), as SQL text for one provider. This is the seam
/// for another database: the EF Core model and migrations stay provider-neutral; a provider needs only its own set of
/// these statements. Table and column names are the model's (EF Core defaults: DbSet and property names).
/// </summary>
internal sealed record IndexRowSql
{
    public required string FindInstance { get; init; }
    public required string FindSeriesByUid { get; init; }
    public required string FindSeriesById { get; init; }
    public required string FindStudy { get; init; }
    public required string FindPatient { get; init; }
    public required string InsertPatient { get; init; }
    public required string InsertStudy { get; init; }
    public required string InsertSeries { get; init; }
    public required string InsertSeriesAttribute { get; init; }
    public required string InsertInstance { get; init; }
    public required string DeleteInstance { get; init; }
    public required string AddPatientCounts { get; init; }
    public required string AddStudyCounts { get; init; }
    public required string AddStudyCountsReceived { get; init; }
    public required string AddSeriesCounts { get; init; }
    public required string AddSeriesCountsReceived { get; init; }
    public required string SetModalities { get; init; }
    public required string LinkProject { get; init; }
    public required string LinkDataset { get; init; }

    /// <summary>Run once on the writer's connection: its commits no longer copy the log into the database themselves (null: no such log).</summary>
    public string? DisableAutoCheckpoint { get; init; }

    /// <summary>Copies committed log pages into the database without waiting for readers or the writer (run off the commit path).</summary>
    public string? Checkpoint { get; init; }

    /// <summary>
    /// SQLite (3.35+ for RETURNING, 3.24+ for ON CONFLICT). Nothing here but RETURNING and ON CONFLICT DO NOTHING goes
    /// beyond plain SQL, and PostgreSQL has both; booleans are bound as parameters, never written as literals.
    /// </summary>
    public static IndexRowSql Sqlite { get; } = new()
    {
        DisableAutoCheckpoint = "PRAGMA wal_autocheckpoint=0",
        Checkpoint = "PRAGMA wal_checkpoint(PASSIVE)",
        FindInstance = """SELECT "Id", "SeriesId", "StoragePath", "ContentHash", "FileSize" FROM "Instances" WHERE "SOPInstanceUID" = @uid""",
        FindSeriesByUid = """
            SELECT s."Id", s."SeriesInstanceUID", s."StudyId", st."PatientId", st."ModalitiesInStudy"
            FROM "Series" s JOIN "Studies" st ON st."Id" = s."StudyId" WHERE s."SeriesInstanceUID" = @uid
            """,
        FindSeriesById = """
            SELECT s."Id", s."SeriesInstanceUID", s."StudyId", st."PatientId", st."ModalitiesInStudy"
            FROM "Series" s JOIN "Studies" st ON st."Id" = s."StudyId" WHERE s."Id" = @id
            """,
        FindStudy = """SELECT "Id", "PatientId", "ModalitiesInStudy" FROM "Studies" WHERE "StudyInstanceUID" = @uid""",
        FindPatient = """SELECT "Id" FROM "Patients" WHERE "PatientID" = @pid""",
        InsertPatient = """
            INSERT INTO "Patients" ("PatientID", "IssuerOfPatientID", "PatientName", "PatientNameSearch", "PatientBirthDate", "PatientSex",
                "NumberOfStudies", "NumberOfSeries", "NumberOfInstances", "CreatedAt")
            VALUES (@pid, @issuer, @name, @nameSearch, @birthDate, @sex, 0, 0, 0, @now) RETURNING "Id"
            """,
        InsertStudy = """
            INSERT INTO "Studies" ("PatientId", "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyDescription",
                "ReferringPhysicianName", "ModalitiesInStudy", "NumberOfSeries", "NumberOfInstances", "TotalSize", "CreatedAt", "LastReceivedAt")
            VALUES (@patientId, @uid, @date, @time, @accession, @studyId, @description, @referring, NULL, 0, 0, 0, @now, @now) RETURNING "Id"
            """,
        InsertSeries = """
            INSERT INTO "Series" ("StudyId", "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "BodyPartExamined",
                "Manufacturer", "ManufacturerModelName", "SeriesDate", "SeriesTime", "NumberOfInstances", "TotalSize", "CreatedAt",
                "LastReceivedAt", "IsComplete", "CompletedAt")
            VALUES (@studyId, @uid, @modality, @number, @description, @bodyPart, @manufacturer, @model, @date, @time, 0, 0, @now, @now, @false, NULL)
            RETURNING "Id"
            """,
        InsertSeriesAttribute = """INSERT INTO "SeriesAttributes" ("SeriesId", "Tag", "Value") VALUES (@seriesId, @tag, @value) ON CONFLICT DO NOTHING""",
        InsertInstance = """
            INSERT INTO "Instances" ("SeriesId", "SOPInstanceUID", "SOPClassUID", "InstanceNumber", "TransferSyntaxUID", "NumberOfFrames",
                "Rows", "Columns", "StoragePath", "FileSize", "ContentHash", "ReceivedAt", "Source", "CallingAE", "CalledAE", "PeerAddress", "UploadUser")
            VALUES (@seriesId, @uid, @class, @number, @syntax, @frames, @rows, @columns, @path, @size, @hash, @receivedAt, @source,
                @calling, @called, @peer, @user)
            RETURNING "Id"
            """,
        DeleteInstance = """DELETE FROM "Instances" WHERE "Id" = @id""",
        AddPatientCounts = """
            UPDATE "Patients" SET "NumberOfStudies" = "NumberOfStudies" + @studies, "NumberOfSeries" = "NumberOfSeries" + @series,
                "NumberOfInstances" = "NumberOfInstances" + @instances WHERE "Id" = @id
            """,
        AddStudyCounts = """
            UPDATE "Studies" SET "NumberOfSeries" = "NumberOfSeries" + @series, "NumberOfInstances" = "NumberOfInstances" + @instances,
                "TotalSize" = "TotalSize" + @size WHERE "Id" = @id
            """,
        AddStudyCountsReceived = """
            UPDATE "Studies" SET "NumberOfSeries" = "NumberOfSeries" + @series, "NumberOfInstances" = "NumberOfInstances" + @instances,
                "TotalSize" = "TotalSize" + @size, "LastReceivedAt" = @now WHERE "Id" = @id
            """,
        AddSeriesCounts = """
            UPDATE "Series" SET "NumberOfInstances" = "NumberOfInstances" + @instances, "TotalSize" = "TotalSize" + @size WHERE "Id" = @id
            """,
        // A late instance reopens a complete series.
        AddSeriesCountsReceived = """
            UPDATE "Series" SET "NumberOfInstances" = "NumberOfInstances" + @instances, "TotalSize" = "TotalSize" + @size,
                "LastReceivedAt" = @now, "IsComplete" = @false, "CompletedAt" = NULL WHERE "Id" = @id
            """,
        SetModalities = """UPDATE "Studies" SET "ModalitiesInStudy" = @modalities WHERE "Id" = @id""",
        LinkProject = """INSERT INTO "ProjectSeries" ("ProjectId", "SeriesId", "AddedAt") VALUES (@projectId, @seriesId, @now) ON CONFLICT DO NOTHING""",
        LinkDataset = """INSERT INTO "DatasetSeries" ("DatasetId", "SeriesId", "AddedAt") VALUES (@datasetId, @seriesId, @now) ON CONFLICT DO NOTHING""",
    };
}
