using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Kaapana.Core.Archive.Index.Migrations
{
    /// <inheritdoc />
    public partial class Triggers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "TriggerRuleId",
                table: "WorkflowRuns",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "TriggerRules",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    ProjectId = table.Column<int>(type: "INTEGER", nullable: false),
                    FiltersJson = table.Column<string>(type: "TEXT", nullable: false),
                    AlgorithmId = table.Column<int>(type: "INTEGER", nullable: false),
                    ParametersJson = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    EnabledAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TriggerRules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TriggerRules_Algorithms_AlgorithmId",
                        column: x => x.AlgorithmId,
                        principalTable: "Algorithms",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_TriggerRules_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "TriggerFirings",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RuleId = table.Column<int>(type: "INTEGER", nullable: false),
                    SeriesInstanceUID = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    FiredAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    RunId = table.Column<long>(type: "INTEGER", nullable: true),
                    Error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TriggerFirings", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TriggerFirings_TriggerRules_RuleId",
                        column: x => x.RuleId,
                        principalTable: "TriggerRules",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WorkflowRuns_TriggerRuleId",
                table: "WorkflowRuns",
                column: "TriggerRuleId");

            migrationBuilder.CreateIndex(
                name: "IX_TriggerFirings_RuleId_SeriesInstanceUID",
                table: "TriggerFirings",
                columns: new[] { "RuleId", "SeriesInstanceUID" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TriggerFirings_RunId",
                table: "TriggerFirings",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_TriggerRules_AlgorithmId",
                table: "TriggerRules",
                column: "AlgorithmId");

            migrationBuilder.CreateIndex(
                name: "IX_TriggerRules_Name",
                table: "TriggerRules",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TriggerRules_ProjectId",
                table: "TriggerRules",
                column: "ProjectId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "TriggerFirings");

            migrationBuilder.DropTable(
                name: "TriggerRules");

            migrationBuilder.DropIndex(
                name: "IX_WorkflowRuns_TriggerRuleId",
                table: "WorkflowRuns");

            migrationBuilder.DropColumn(
                name: "TriggerRuleId",
                table: "WorkflowRuns");
        }
    }
}
