using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Kaapana.Core.Archive.Index.Migrations
{
    /// <inheritdoc />
    public partial class ArchiveIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Datasets",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ProjectId = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Datasets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Datasets_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Patients",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PatientID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    IssuerOfPatientID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    PatientName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    PatientNameSearch = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    PatientBirthDate = table.Column<string>(type: "TEXT", maxLength: 8, nullable: true),
                    PatientSex = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    NumberOfStudies = table.Column<int>(type: "INTEGER", nullable: false),
                    NumberOfSeries = table.Column<int>(type: "INTEGER", nullable: false),
                    NumberOfInstances = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Patients", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DatasetVersions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DatasetId = table.Column<int>(type: "INTEGER", nullable: true),
                    ProjectId = table.Column<int>(type: "INTEGER", nullable: false),
                    DatasetName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Note = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    InstanceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    UidListHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetVersions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DatasetVersions_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "ReceivingEndpoints",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AETitle = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ProjectId = table.Column<int>(type: "INTEGER", nullable: false),
                    DatasetId = table.Column<int>(type: "INTEGER", nullable: true),
                    Description = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ReceivingEndpoints", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ReceivingEndpoints_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_ReceivingEndpoints_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Studies",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PatientId = table.Column<long>(type: "INTEGER", nullable: false),
                    StudyInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    StudyDate = table.Column<string>(type: "TEXT", maxLength: 8, nullable: true),
                    StudyTime = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    AccessionNumber = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    StudyID = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    StudyDescription = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ReferringPhysicianName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    ModalitiesInStudy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    NumberOfSeries = table.Column<int>(type: "INTEGER", nullable: false),
                    NumberOfInstances = table.Column<int>(type: "INTEGER", nullable: false),
                    TotalSize = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastReceivedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Studies", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Studies_Patients_PatientId",
                        column: x => x.PatientId,
                        principalTable: "Patients",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DatasetVersionItems",
                columns: table => new
                {
                    DatasetVersionId = table.Column<long>(type: "INTEGER", nullable: false),
                    SOPInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    StudyInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SeriesInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetVersionItems", x => new { x.DatasetVersionId, x.SOPInstanceUID });
                    table.ForeignKey(
                        name: "FK_DatasetVersionItems_DatasetVersions_DatasetVersionId",
                        column: x => x.DatasetVersionId,
                        principalTable: "DatasetVersions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Series",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StudyId = table.Column<long>(type: "INTEGER", nullable: false),
                    SeriesInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Modality = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    SeriesNumber = table.Column<int>(type: "INTEGER", nullable: true),
                    SeriesDescription = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    BodyPartExamined = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Manufacturer = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ManufacturerModelName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    SeriesDate = table.Column<string>(type: "TEXT", maxLength: 8, nullable: true),
                    SeriesTime = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    NumberOfInstances = table.Column<int>(type: "INTEGER", nullable: false),
                    TotalSize = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastReceivedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    IsComplete = table.Column<bool>(type: "INTEGER", nullable: false),
                    CompletedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Series", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Series_Studies_StudyId",
                        column: x => x.StudyId,
                        principalTable: "Studies",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DatasetSeries",
                columns: table => new
                {
                    DatasetId = table.Column<int>(type: "INTEGER", nullable: false),
                    SeriesId = table.Column<long>(type: "INTEGER", nullable: false),
                    AddedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetSeries", x => new { x.DatasetId, x.SeriesId });
                    table.ForeignKey(
                        name: "FK_DatasetSeries_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_DatasetSeries_Series_SeriesId",
                        column: x => x.SeriesId,
                        principalTable: "Series",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Instances",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SeriesId = table.Column<long>(type: "INTEGER", nullable: false),
                    SOPInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SOPClassUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    InstanceNumber = table.Column<int>(type: "INTEGER", nullable: true),
                    TransferSyntaxUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    NumberOfFrames = table.Column<int>(type: "INTEGER", nullable: true),
                    Rows = table.Column<int>(type: "INTEGER", nullable: true),
                    Columns = table.Column<int>(type: "INTEGER", nullable: true),
                    StoragePath = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    FileSize = table.Column<long>(type: "INTEGER", nullable: false),
                    ContentHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ReceivedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Source = table.Column<int>(type: "INTEGER", nullable: false),
                    CallingAE = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    CalledAE = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    PeerAddress = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    UploadUser = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Instances", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Instances_Series_SeriesId",
                        column: x => x.SeriesId,
                        principalTable: "Series",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProjectSeries",
                columns: table => new
                {
                    ProjectId = table.Column<int>(type: "INTEGER", nullable: false),
                    SeriesId = table.Column<long>(type: "INTEGER", nullable: false),
                    AddedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProjectSeries", x => new { x.ProjectId, x.SeriesId });
                    table.ForeignKey(
                        name: "FK_ProjectSeries_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ProjectSeries_Series_SeriesId",
                        column: x => x.SeriesId,
                        principalTable: "Series",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SeriesAttributes",
                columns: table => new
                {
                    SeriesId = table.Column<long>(type: "INTEGER", nullable: false),
                    Tag = table.Column<int>(type: "INTEGER", nullable: false),
                    Value = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SeriesAttributes", x => new { x.SeriesId, x.Tag });
                    table.ForeignKey(
                        name: "FK_SeriesAttributes_Series_SeriesId",
                        column: x => x.SeriesId,
                        principalTable: "Series",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_ProjectId_Name",
                table: "Datasets",
                columns: new[] { "ProjectId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DatasetSeries_SeriesId",
                table: "DatasetSeries",
                column: "SeriesId");

            migrationBuilder.CreateIndex(
                name: "IX_DatasetVersions_DatasetId_Number",
                table: "DatasetVersions",
                columns: new[] { "DatasetId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DatasetVersions_ProjectId",
                table: "DatasetVersions",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_Instances_SeriesId",
                table: "Instances",
                column: "SeriesId");

            migrationBuilder.CreateIndex(
                name: "IX_Instances_SOPClassUID",
                table: "Instances",
                column: "SOPClassUID");

            migrationBuilder.CreateIndex(
                name: "IX_Instances_SOPInstanceUID",
                table: "Instances",
                column: "SOPInstanceUID",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Patients_PatientBirthDate",
                table: "Patients",
                column: "PatientBirthDate");

            migrationBuilder.CreateIndex(
                name: "IX_Patients_PatientID",
                table: "Patients",
                column: "PatientID",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Patients_PatientNameSearch",
                table: "Patients",
                column: "PatientNameSearch");

            migrationBuilder.CreateIndex(
                name: "IX_ProjectSeries_SeriesId",
                table: "ProjectSeries",
                column: "SeriesId");

            migrationBuilder.CreateIndex(
                name: "IX_ReceivingEndpoints_AETitle",
                table: "ReceivingEndpoints",
                column: "AETitle",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ReceivingEndpoints_DatasetId",
                table: "ReceivingEndpoints",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_ReceivingEndpoints_ProjectId",
                table: "ReceivingEndpoints",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_Series_IsComplete",
                table: "Series",
                column: "IsComplete");

            migrationBuilder.CreateIndex(
                name: "IX_Series_Modality",
                table: "Series",
                column: "Modality");

            migrationBuilder.CreateIndex(
                name: "IX_Series_SeriesInstanceUID",
                table: "Series",
                column: "SeriesInstanceUID",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Series_StudyId",
                table: "Series",
                column: "StudyId");

            migrationBuilder.CreateIndex(
                name: "IX_SeriesAttributes_Tag_Value",
                table: "SeriesAttributes",
                columns: new[] { "Tag", "Value" });

            migrationBuilder.CreateIndex(
                name: "IX_Studies_AccessionNumber",
                table: "Studies",
                column: "AccessionNumber");

            migrationBuilder.CreateIndex(
                name: "IX_Studies_PatientId",
                table: "Studies",
                column: "PatientId");

            migrationBuilder.CreateIndex(
                name: "IX_Studies_StudyDate",
                table: "Studies",
                column: "StudyDate");

            migrationBuilder.CreateIndex(
                name: "IX_Studies_StudyInstanceUID",
                table: "Studies",
                column: "StudyInstanceUID",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DatasetSeries");

            migrationBuilder.DropTable(
                name: "DatasetVersionItems");

            migrationBuilder.DropTable(
                name: "Instances");

            migrationBuilder.DropTable(
                name: "ProjectSeries");

            migrationBuilder.DropTable(
                name: "ReceivingEndpoints");

            migrationBuilder.DropTable(
                name: "SeriesAttributes");

            migrationBuilder.DropTable(
                name: "DatasetVersions");

            migrationBuilder.DropTable(
                name: "Series");

            migrationBuilder.DropTable(
                name: "Datasets");

            migrationBuilder.DropTable(
                name: "Studies");

            migrationBuilder.DropTable(
                name: "Patients");
        }
    }
}
