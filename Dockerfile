# livecdn: one image, one binary; the compose file picks the subcommand (origin, edge, signal, all).
# The server needs no system package: RTMP, FLV and HLS are remuxed in-process, so no ffmpeg here.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsc into dist/, and the player pages into dist/player/www/ (built here too in case `npm run build`
# does not include build-player yet).
RUN npm run build
RUN [ -f dist/player/www/index.html ] || node scripts/build-player.mjs
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# RTMP, HTTP (origin and edge), control plane
EXPOSE 1935 8080 8090
ENTRYPOINT ["node","dist/cli/main.js"]
CMD ["all", "--host", "0.0.0.0"]
