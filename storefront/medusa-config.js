// The storefront's Medusa v2 server (storefront/README.md). No admin UI and no Redis: the in-memory event
// bus, cache, locking and workflow engine are Medusa's defaults then, which one server process is enough for.
const { defineConfig } = require("@medusajs/framework/utils")

const origins = process.env.MEDUSA_CORS || "http://127.0.0.1:8000"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      storeCors: origins,
      adminCors: origins,
      authCors: origins,
      jwtSecret: process.env.JWT_SECRET,
      cookieSecret: process.env.COOKIE_SECRET,
    },
  },
  admin: { disable: true },
})
