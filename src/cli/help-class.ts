import { fileURLToPath } from 'node:url'
import { loadHelpModule, recoverHelpClass } from './recover-help.js'

/** The help class oclif loads (package.json oclif.helpClass): recover's, over the build's copy of oclif's help. */
export default recoverHelpClass(loadHelpModule(fileURLToPath(new URL('../../..', import.meta.url))))
