# woozoom image: built with cgo (SQLite is compiled in), run as a non-root
# user, the database on a volume.
#   docker build -t woozoom .
#   docker run -v woozoom-data:/var/lib/woozoom -v $PWD/config.yaml:/etc/woozoom/config.yaml:ro -p 8080:8080 woozoom
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/woozoom ./cmd/woozoom

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/woozoom --shell /usr/sbin/nologin woozoom \
 && install -d -m 0700 -o woozoom -g woozoom /var/lib/woozoom \
 && install -d -m 0755 /etc/woozoom
COPY --from=build /out/woozoom /usr/local/bin/woozoom
USER woozoom:woozoom
WORKDIR /var/lib/woozoom
# The config's database and listen keys are overridden so the data stays on
# the volume and the port is the one WordPress delivers to.
ENV WOOZOOM_DATABASE=/var/lib/woozoom/woozoom.db \
    WOOZOOM_LISTEN=:8080
VOLUME ["/var/lib/woozoom"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/woozoom"]
CMD ["serve", "--config", "/etc/woozoom/config.yaml"]
