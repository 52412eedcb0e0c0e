using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Kaapana.Core.Archive.Index.Migrations
{
    /// <inheritdoc />
    public partial class Workflows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Algorithms",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ImageReference = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    ImageDigest = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    ManifestJson = table.Column<string>(type: "TEXT", nullable: false),
                    ManifestFromImage = table.Column<bool>(type: "INTEGER", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    NetworkAllowed = table.Column<bool>(type: "INTEGER", nullable: false),
                    RegisteredAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Algorithms", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "WorkflowRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AlgorithmId = table.Column<int>(type: "INTEGER", nullable: false),
                    AlgorithmName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    AlgorithmVersion = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ImageDigest = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    ManifestJson = table.Column<string>(type: "TEXT", nullable: false),
                    ParametersJson = table.Column<string>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<int>(type: "INTEGER", nullable: false),
                    DatasetVersionId = table.Column<long>(type: "INTEGER", nullable: true),
                    SeriesSelectionJson = table.Column<string>(type: "TEXT", nullable: true),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    EndedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    ResultsDatasetId = table.Column<int>(type: "INTEGER", nullable: true),
                    RerunOf = table.Column<long>(type: "INTEGER", nullable: true),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WorkflowRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WorkflowRuns_Algorithms_AlgorithmId",
                        column: x => x.AlgorithmId,
                        principalTable: "Algorithms",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_WorkflowRuns_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "RunItems",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<long>(type: "INTEGER", nullable: false),
                    ScopeKey = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    InputJson = table.Column<string>(type: "TEXT", nullable: false),
                    InstanceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    Attempt = table.Column<int>(type: "INTEGER", nullable: false),
                    Dispatch = table.Column<int>(type: "INTEGER", nullable: false),
                    JobId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    ContainerId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    ExitCode = table.Column<long>(type: "INTEGER", nullable: true),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    EndedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LogPath = table.Column<string>(type: "TEXT", maxLength: 400, nullable: true),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    MetricsJson = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunItems", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RunItems_WorkflowRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "WorkflowRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DerivedSeries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SeriesInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RunId = table.Column<long>(type: "INTEGER", nullable: false),
                    RunItemId = table.Column<long>(type: "INTEGER", nullable: false),
                    SourceSeriesJson = table.Column<string>(type: "TEXT", nullable: false),
                    InstanceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    Complete = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DerivedSeries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DerivedSeries_RunItems_RunItemId",
                        column: x => x.RunItemId,
                        principalTable: "RunItems",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "RunArtifacts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<long>(type: "INTEGER", nullable: false),
                    RunItemId = table.Column<long>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    StoragePath = table.Column<string>(type: "TEXT", maxLength: 600, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunArtifacts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RunArtifacts_RunItems_RunItemId",
                        column: x => x.RunItemId,
                        principalTable: "RunItems",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Algorithms_Name_Version",
                table: "Algorithms",
                columns: new[] { "Name", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DerivedSeries_RunId",
                table: "DerivedSeries",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_DerivedSeries_RunItemId",
                table: "DerivedSeries",
                column: "RunItemId");

            migrationBuilder.CreateIndex(
                name: "IX_DerivedSeries_SeriesInstanceUID",
                table: "DerivedSeries",
                column: "SeriesInstanceUID",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_RunArtifacts_RunId",
                table: "RunArtifacts",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_RunArtifacts_RunItemId",
                table: "RunArtifacts",
                column: "RunItemId");

            migrationBuilder.CreateIndex(
                name: "IX_RunItems_RunId_State",
                table: "RunItems",
                columns: new[] { "RunId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_RunItems_State",
                table: "RunItems",
                column: "State");

            migrationBuilder.CreateIndex(
                name: "IX_WorkflowRuns_AlgorithmId",
                table: "WorkflowRuns",
                column: "AlgorithmId");

            migrationBuilder.CreateIndex(
                name: "IX_WorkflowRuns_ProjectId",
                table: "WorkflowRuns",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_WorkflowRuns_State",
                table: "WorkflowRuns",
                column: "State");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DerivedSeries");

            migrationBuilder.DropTable(
                name: "RunArtifacts");

            migrationBuilder.DropTable(
                name: "RunItems");

            migrationBuilder.DropTable(
                name: "WorkflowRuns");

            migrationBuilder.DropTable(
                name: "Algorithms");
        }
    }
}
