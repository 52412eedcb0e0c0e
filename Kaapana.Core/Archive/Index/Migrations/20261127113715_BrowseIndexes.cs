using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Kaapana.Core.Archive.Index.Migrations
{
    /// <inheritdoc />
    public partial class BrowseIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SeriesAttributes_Tag_Value",
                table: "SeriesAttributes");

            migrationBuilder.CreateIndex(
                name: "IX_SeriesAttributes_Tag_Value_SeriesId",
                table: "SeriesAttributes",
                columns: new[] { "Tag", "Value", "SeriesId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SeriesAttributes_Tag_Value_SeriesId",
                table: "SeriesAttributes");

            migrationBuilder.CreateIndex(
                name: "IX_SeriesAttributes_Tag_Value",
                table: "SeriesAttributes",
                columns: new[] { "Tag", "Value" });
        }
    }
}
