// The older framework majors are installed under aliases for the adapter matrix.
declare module 'express-4' {
  import express from 'express'
  export default express
}
declare module 'koa-2' {
  import Koa from 'koa'
  export default Koa
}
