# Kaapana as one container. Built by docker-compose.yml; by hand:
#   docker build -t kaapana . && docker run -p 8080:8080 -p 11112:11112 -v kaapana-data:/data kaapana

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore from the project files alone so this layer is reused until a dependency changes.
# A new project the server references (or a NuGet.config / Directory.Packages.props) must be added here.
COPY Directory.Build.props ./
COPY Kaapana.Dicom/Kaapana.Dicom.csproj Kaapana.Dicom/
COPY Kaapana.Core/Kaapana.Core.csproj Kaapana.Core/
COPY Kaapana.Web/Kaapana.Web.csproj Kaapana.Web/
COPY Kaapana.Server/Kaapana.Server.csproj Kaapana.Server/
RUN dotnet restore Kaapana.Server/Kaapana.Server.csproj

COPY . .
RUN dotnet publish Kaapana.Server/Kaapana.Server.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /app ./

# Created in the image so that a new named volume mounted here inherits the owner below.
RUN mkdir -p /data && chown "$APP_UID" /data

# Listen on all interfaces inside the container (the default is loopback only).
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Kaapana__DataDir=/data
VOLUME /data
EXPOSE 8080 11112

# The non-root user the .NET images provide.
USER $APP_UID
ENTRYPOINT ["dotnet", "Kaapana.Server.dll"]
