/**
 * `multipart-poster/form-data`: a drop-in replacement for the `form-data` package.
 *
 *   const FormData = require('multipart-poster/form-data'); // was: require('form-data')
 *   import FormData from 'multipart-poster/form-data';       // was: import FormData from 'form-data'
 */
import { FormData } from './form.js';

export default FormData;
