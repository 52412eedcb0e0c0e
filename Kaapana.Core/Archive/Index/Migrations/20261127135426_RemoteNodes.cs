using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Kaapana.Core.Archive.Index.Migrations
{
    /// <inheritdoc />
    public partial class RemoteNodes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "RemoteNodes",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AETitle = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Host = table.Column<string>(type: "TEXT", maxLength: 253, nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RemoteNodes", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_RemoteNodes_AETitle",
                table: "RemoteNodes",
                column: "AETitle",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RemoteNodes");
        }
    }
}
